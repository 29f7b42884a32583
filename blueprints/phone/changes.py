"""The daytime phone change, written."""

from extensions import db
from models import Member, record_change


def change_phone(member: Member, digits: str) -> None:
    """Store the new number (digits only) with its 変更履歴 row; `member` then shows it."""
    with db.database.atomic():
        Member.update(daytime_phone=digits).where(Member.id == member.id).execute()
        record_change(member, "日中のご連絡先電話番号", f"末尾 {digits[-4:]} に変更")
    member.daytime_phone = digits
