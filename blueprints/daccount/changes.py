"""The d-account link, written."""

from extensions import db
from models import Member, record_change


def unlink(member: Member) -> bool:
    """Remove the member's d-account link. False when there was none: the conditional UPDATE
    makes a repeated or forged POST change nothing."""
    with db.database.atomic():
        unlinked = (
            Member.update(d_account_linked=False)
            .where((Member.id == member.id) & Member.d_account_linked)
            .execute()
        )
        if unlinked:
            record_change(member, "dアカウント連携", "登録解除")
    member.d_account_linked = False
    return bool(unlinked)
