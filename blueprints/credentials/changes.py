"""ログインID／パスワード変更: every check that needs the database or argon2, in its one safe
order, and the change itself.

One password change hashes at most 4 times: the current password is verified (1), the new one
is compared with the two older history hashes (2; the current one is compared in clear, as it
was just verified), and the new one is hashed (1). See bench/password_change.py.
"""

from __future__ import annotations

from enum import Enum

from peewee import IntegrityError

import once
from blueprints.auth.login import check_member_secret
from blueprints.auth.sessions import after_credential_change, keep_token
from blueprints.email.changes import cancel_email_change
from blueprints.email.rules import mask_email
from clock import utcnow
from extensions import db
from hashing import hash_secret
from mail import queue_mail
from models import CredentialHistory, Member, record_change

from . import rules
from .forms import TARGETS, CredentialsForm

NOTICE_SUBJECT = "【WebBilling】{}変更のお知らせ"
WRONG_LOGIN_ID = "現在のログインIDが正しくありません。"
WRONG_PASSWORD = "現在のログインパスワードが正しくありません。"


class Outcome(Enum):
    CHANGED = "changed"
    INVALID = "invalid"  # the reasons are on the form's fields, every one of them
    NO_CHOICE = "no_choice"  # no variant chosen, or a tampered one
    LOCKED_OUT = "locked_out"  # the current password was wrong once too often


def change_credentials(
    member: Member, form: CredentialsForm, once_token: str | None = None
) -> Outcome:
    """Check a submitted [更新] and, when everything holds, make the change. The order is the
    point:

    1. what needs neither database nor hash: presence, confirmations, the rules of rules.py;
    2. the current login ID, then the current password (a wrong one counts toward the login
       lock, exactly as on the login page);
    3. only when both current values are right, the new values' history and uniqueness, so
       that someone holding just a session learns neither old passwords nor whose an ID is;
    4. the new password's hash, then one transaction; the unique index settles a race for
       the same ID, and the spent `once_token` a repeat of this submission (once.Repeated).
    """
    valid = form.validate()
    if form.target.errors:
        return Outcome.NO_CHOICE
    current_ok = bool(form.current_password.data)
    if form.value("current_login_id") and form.current_login_id.data.lower() != member.login_id_key:
        form.current_login_id.errors.append(WRONG_LOGIN_ID)
        current_ok = False
    if form.current_password.data and not check_member_secret(
        member, member.password_hash, form.current_password.data
    ):
        if Member.get_by_id(member.id).is_locked(utcnow()):
            return Outcome.LOCKED_OUT
        form.current_password.errors.append(WRONG_PASSWORD)
        current_ok = False
    if not current_ok:
        return Outcome.INVALID
    if not _history_and_uniqueness_hold(form, member) or not valid:
        return Outcome.INVALID

    new_login_id = form.new_login_id.data if form.changes("login_id") else None
    new_hash = hash_secret(form.new_password.data) if form.changes("password") else None
    try:
        _store(member, form.target.data, new_login_id, new_hash, once_token)
    except IntegrityError:  # another member took the same ID a moment ago
        form.new_login_id.errors.append(rules.LOGIN_ID_TAKEN)
        return Outcome.INVALID
    return Outcome.CHANGED


def _history_and_uniqueness_hold(form: CredentialsForm, member: Member) -> bool:
    """Checked only for a new value the pure rules accepted."""
    holds = True
    if form.changes("login_id") and not form.new_login_id.errors:
        if rules.login_id_reused(form.new_login_id.data, _recent_login_ids(member)):
            form.new_login_id.errors.append(rules.LOGIN_ID_REUSED)
            holds = False
        elif login_id_taken(form.new_login_id.data, member):
            form.new_login_id.errors.append(rules.LOGIN_ID_TAKEN)
            holds = False
    if (
        form.changes("password")
        and not form.new_password.errors
        and rules.password_reused(
            form.new_password.data, form.current_password.data, _older_password_hashes(member)
        )
    ):
        form.new_password.errors.append(rules.PASSWORD_REUSED)
        holds = False
    return holds


def _history(member: Member, kind: str):
    return (
        CredentialHistory.select()
        .where((CredentialHistory.member == member.id) & (CredentialHistory.kind == kind))
        .order_by(CredentialHistory.created_at.desc(), CredentialHistory.id.desc())
    )


def _recent_login_ids(member: Member) -> list[str]:
    """Lower-cased login IDs, the current one first, then the history newest first."""
    keys = [member.login_id_key]
    keys += [row.value for row in _history(member, "login_id").limit(rules.HISTORY_DEPTH)]
    return list(dict.fromkeys(keys))


def _older_password_hashes(member: Member) -> list[str]:
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


def _store(
    member: Member,
    target: str,
    new_login_id: str | None,
    new_password_hash: str | None,
    once_token: str | None,
) -> None:
    """Write the change, its history and its 変更履歴 row, and end what came before it (with
    the notice): all in one transaction. Raises peewee.IntegrityError when another member
    claimed the same login ID in the meantime (nothing is written then)."""
    changes: dict = {Member.failed_logins: 0}
    if new_login_id is not None:
        changes.update({Member.login_id: new_login_id, Member.login_id_key: new_login_id.lower()})
    if new_password_hash is not None:
        changes[Member.password_hash] = new_password_hash
    what = TARGETS[target]
    with db.database.atomic():
        once.spend(once_token, "credentials")
        Member.update(changes).where(Member.id == member.id).execute()
        if new_login_id is not None:
            _remember(member, "login_id", new_login_id.lower())
        if new_password_hash is not None:
            _remember(member, "password", new_password_hash)
        # Never the values themselves: 変更履歴 is shown on screen.
        record_change(member, what, f"{what}を変更")
        token = end_what_came_before(member, what)
    keep_token(token)
    for field, value in changes.items():
        setattr(member, field.name, value)


def end_what_came_before(member: Member, what: str) -> str:
    """After a login ID or password change, inside its transaction (every way of changing them
    calls this, a later password reset too): end everything a session before it started — the
    member's other sessions and pending login steps, a pending contact-address change (its
    link then answers as a cancelled one, and 変更履歴 says why) — and tell the contact address
    what was ended and whether a d-account is linked. A d-account link waiting for its
    [連携登録する] needs no write: it carries a stamp of the credentials it was proved with
    (daccount.views). Returns this session's new token."""
    token, sessions = after_credential_change(member)
    cancelled = cancel_email_change(member, f"{what}の変更により取り消し")
    if member.email:
        queue_mail(
            member.email,
            NOTICE_SUBJECT.format(what),
            "mail/credentials_changed.txt",
            member=member,
            what=what,
            changed_at=utcnow(),
            sessions=sessions,
            cancelled=mask_email(cancelled) if cancelled else None,
        )
    return token


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
