"""The rules of logging in (SPEC §2.0), apart from HTTP.

The lock-out cannot be raced: every check of a member's secret (the password at login, the
secret answer at login, the current password on the credentials form) first *reserves* its
attempt with one conditional UPDATE, counted as a failure until it is proved right, and only
then hashes. The reservation that brings the count to LOGIN_MAX_FAILURES locks the account at
once, so however many requests arrive together, at most LOGIN_MAX_FAILURES of them are
verified per lock window, in any number of processes (the database decides). A right secret
gives its reservation back (`_give_back`) only while the account is not locked: a lock set
after the check began stands, and that check fails.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from peewee import Case

from clock import utcnow
from extensions import db
from hashing import hash_secret, needs_rehash, verify_secret
from models import LoginDecoy, Member


def check_password(login_id: str, password: str) -> Member | None:
    """The member whose ID and password these are, or None.

    An unknown ID, a wrong password and a locked account do the same work — one row changed,
    one argon2 verification — so the answer takes the same time whichever it is, and the caller
    gives the same message for all of them.
    """
    member, lock = _reserve(Member.login_id_key == login_id.lower())
    if not verify_secret(member.password_hash if member else None, password):
        return None
    if not _give_back(member, lock):
        return None
    if needs_rehash(member.password_hash):
        member.password_hash = hash_secret(password)
        Member.update(password_hash=member.password_hash).where(Member.id == member.id).execute()
    return member


def check_member_secret(member: Member, secret_hash: str | None, given: str) -> bool:
    """A secret of a logged-in or logging-in member (the secret answer at login, the current
    password on the credentials form): reserved and counted exactly as a password on the login
    page; a locked account is not verified at all."""
    reserved, lock = _reserve(Member.id == member.id)
    if reserved is None:
        return False
    return verify_secret(secret_hash, given) and _give_back(member, lock)


def _reserve(which) -> tuple[Member | None, datetime | None]:
    """Count one attempt against the member `which` selects, unless it is locked. Returns the
    member as updated (None: no such member, or locked: nothing reserved) and the lock this
    reservation set when it was the last one allowed.

    Nothing reserved writes the decoy row instead, so the three failing cases (unknown ID,
    locked, wrong) each change exactly one row: SQLite does not even write a page that an
    UPDATE leaves unchanged, PostgreSQL always does, so the conditions are in the WHERE."""
    config = current_app.config
    now = utcnow()
    lock_until = now + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    last = Member.failed_logins + 1 >= config["LOGIN_MAX_FAILURES"]
    query = (
        Member.update(
            {
                Member.failed_logins: Case(None, [(last, 0)], Member.failed_logins + 1),
                # a lock that ran out is cleared here, the count having restarted at 0
                Member.locked_until: Case(None, [(last, lock_until)], None),
            }
        )
        .where(which & (Member.locked_until.is_null() | (Member.locked_until <= now)))
        .returning(Member)
    )
    with db.database.atomic():
        member = next(iter(query.execute()), None)
        if member is None:
            LoginDecoy.insert(id=1, writes=1).on_conflict(
                conflict_target=[LoginDecoy.id],
                update={LoginDecoy.writes: LoginDecoy.writes + 1},
            ).execute()
            return None, None
    return member, member.locked_until


def _give_back(member: Member, lock: datetime | None) -> bool:
    """A right secret: undo its reservation, unless the account was locked meanwhile by
    another attempt (then False: the lock stands and this attempt fails too)."""
    if lock is not None:  # this attempt's own lock: lift it, the count back to one below
        lifted = Member.update(
            locked_until=None, failed_logins=current_app.config["LOGIN_MAX_FAILURES"] - 1
        ).where((Member.id == member.id) & (Member.locked_until == lock))
    else:
        lifted = Member.update(
            failed_logins=Case(None, [(Member.failed_logins > 0, Member.failed_logins - 1)], 0)
        ).where(
            (Member.id == member.id)
            & (Member.locked_until.is_null() | (Member.locked_until <= utcnow()))
        )
    with db.database.atomic():
        return lifted.execute() == 1


def record_failure(member: Member) -> None:
    """Count a failed attempt; the Nth consecutive one locks the account (the QA scenarios)."""
    _reserve(Member.id == member.id)
