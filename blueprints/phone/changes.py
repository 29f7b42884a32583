"""The daytime phone change, written."""

import once
from extensions import db
from models import Member, record_change


def change_phone(member: Member, digits: str, once_token: str | None = None) -> None:
    """Store the new number (digits only) with its 変更履歴 row; `member` then shows it.
    Raises once.Repeated if `once_token` was spent (see once.py)."""
    with db.database.atomic():
        once.spend(once_token, "phone")
        Member.update(daytime_phone=digits).where(Member.id == member.id).execute()
        record_change(member, "日中のご連絡先電話番号", f"末尾 {digits[-4:]} に変更")
    member.daytime_phone = digits
