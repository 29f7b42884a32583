"""The rules of logging in (SPEC §2.0), apart from HTTP."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from clock import utcnow
from extensions import db
from hashing import hash_secret, needs_rehash, verify_secret
from models import Member


def check_password(login_id: str, password: str) -> Member | None:
    """The member whose ID and password these are, or None.

    An unknown ID and a locked account cost one argon2 verification too, so the answer takes
    the same time whichever it is, and the caller gives the same message for all of them.
    """
    now = utcnow()
    member = Member.get_or_none(Member.login_id_key == login_id.lower())
    if member is None or member.is_locked(now):
        verify_secret(None, password)
        return None
    if not verify_secret(member.password_hash, password):
        record_failure(member)
        return None
    if needs_rehash(member.password_hash):
        Member.update(password_hash=hash_secret(password)).where(Member.id == member.id).execute()
    return member


def check_member_secret(member: Member, secret_hash: str | None, given: str) -> bool:
    """A secret of a logged-in or logging-in member (the secret answer at login, the current
    password on the credentials form): a wrong one counts toward the login lock, exactly as a
    wrong password on the login page; a locked account is not verified at all."""
    if member.is_locked(utcnow()):
        return False
    if verify_secret(secret_hash, given):
        return True
    record_failure(member)
    return False


def record_failure(member: Member) -> None:
    """Count a failed attempt; the Nth consecutive one locks the account."""
    config = current_app.config
    with db.database.atomic():
        Member.update(failed_logins=Member.failed_logins + 1).where(
            Member.id == member.id
        ).execute()
        failures = Member.select(Member.failed_logins).where(Member.id == member.id).scalar()
        if failures >= config["LOGIN_MAX_FAILURES"]:
            Member.update(
                failed_logins=0,
                locked_until=utcnow() + timedelta(minutes=config["LOGIN_LOCK_MINUTES"]),
            ).where(Member.id == member.id).execute()
