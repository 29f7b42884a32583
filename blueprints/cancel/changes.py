"""一括解約, written."""

import once
from blueprints.auth.sessions import end_all_sessions
from blueprints.email.changes import forget_links
from clock import utcnow
from extensions import db
from mail import queue_mail
from models import Cancellation, EmailChangeRequest, Member, record_change


def cancel_membership(member: Member, reason: str, once_token: str | None = None) -> None:
    """In one transaction: the membership marked cancelled with its reason, its 変更履歴 row,
    the notice (to a registered contact address only), and every session of the member ended.
    The condition makes a double submit (two tabs) cancel once; a repeat of the same
    submission (`once_token` spent) raises once.Repeated."""
    now = utcnow()
    with db.database.atomic():
        once.spend(once_token, "cancel")
        if (
            Member.update(cancelled_at=now)
            .where((Member.id == member.id) & Member.cancelled_at.is_null())
            .execute()
        ):
            Cancellation.create(member=member.id, reason=reason, cancelled_at=now)
            record_change(member, "Webビリング一括解約", f"解約理由：{reason}")
            # A pending address change can no longer be confirmed: its link leaves the mail.
            forget_links(EmailChangeRequest.member == member.id)
            if member.email:
                queue_mail(
                    member.email,
                    "【WebBilling】Webビリング一括解約のお知らせ",
                    "mail/cancelled.txt",
                    member=member,
                    reason=reason,
                    cancelled_at=now,
                )
        end_all_sessions(member)
