"""The checks that need the database or argon2, and the change itself.

One password change hashes at most 4 times: the current password is verified (1), the new one
is compared with the two older history hashes (2; the current one is compared in clear, as it
was just verified), and the new one is hashed (1). See bench/password_change.py.
"""

from __future__ import annotations

from blueprints.auth.sessions import end_other_sessions
from clock import utcnow
from extensions import db
from mail import queue_mail
from models import CredentialHistory, Member, record_change

from . import rules
from .forms import TARGETS

NOTICE_SUBJECT = "【WebBilling】{}変更のお知らせ"


def is_locked(member: Member) -> bool:
    return Member.get_by_id(member.id).is_locked(utcnow())


def _history(member: Member, kind: str):
    return (
        CredentialHistory.select()
        .where((CredentialHistory.member == member.id) & (CredentialHistory.kind == kind))
        .order_by(CredentialHistory.created_at.desc(), CredentialHistory.id.desc())
    )


def recent_login_ids(member: Member) -> list[str]:
    """Lower-cased login IDs, the current one first, then the history newest first."""
    keys = [member.login_id_key]
    keys += [row.value for row in _history(member, "login_id").limit(rules.HISTORY_DEPTH)]
    return list(dict.fromkeys(keys))


def older_password_hashes(member: Member) -> list[str]:
    """Hashes of the passwords before the current one (the newest history row is the current
    password; it may have been re-hashed since, so it is skipped by position, not by value)."""
    rows = _history(member, "password").offset(1).limit(rules.HISTORY_DEPTH - 1)
    return [row.value for row in rows]


def login_id_taken(login_id: str, member: Member) -> bool:
    """A friendly early answer; the unique `login_id_key` index is the real guarantee."""
    return (
        Member.select()
        .where((Member.login_id_key == login_id.lower()) & (Member.id != member.id))
        .exists()
    )


def store_change(
    member: Member, target: str, new_login_id: str | None, new_password_hash: str | None
) -> None:
    """Write the change, its history, its 変更履歴 row and its notice, and log the member's other
    sessions out: all in one transaction. Raises peewee.IntegrityError when another member
    claimed the same login ID in the meantime (nothing is written then)."""
    changes: dict = {Member.failed_logins: 0}
    if new_login_id is not None:
        changes.update({Member.login_id: new_login_id, Member.login_id_key: new_login_id.lower()})
    if new_password_hash is not None:
        changes[Member.password_hash] = new_password_hash
    what = TARGETS[target]
    with db.database.atomic():
        Member.update(changes).where(Member.id == member.id).execute()
        if new_login_id is not None:
            _remember(member, "login_id", new_login_id.lower())
        if new_password_hash is not None:
            _remember(member, "password", new_password_hash)
        # Never the values themselves: 変更履歴 is shown on screen.
        record_change(member, what, f"{what}を変更")
        end_other_sessions(member)
        if member.email:
            queue_mail(
                member.email,
                NOTICE_SUBJECT.format(what),
                "email/credentials_changed.txt",
                member=member,
                what=what,
                changed_at=utcnow(),
            )


def _remember(member: Member, kind: str, value: str) -> None:
    """Add the new value to the history and forget what the rules no longer need (old password
    hashes are secrets too: keep no more of them than the rule uses)."""
    CredentialHistory.create(member=member, kind=kind, value=value)
    keep = [row.id for row in _history(member, kind).limit(rules.HISTORY_DEPTH)]
    CredentialHistory.delete().where(
        (CredentialHistory.member == member.id)
        & (CredentialHistory.kind == kind)
        & CredentialHistory.id.not_in(keep)
    ).execute()
