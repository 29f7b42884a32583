"""Final steps that are safe to repeat: one one-time token per rendered final form.

Every form whose POST makes a change (a confirm step, the credentials form, 確認メールを再送)
carries a hidden `once` token made for this member and this step. The change spends it inside
its own transaction: an INSERT of its SHA-256 that a unique index lets through once. A second
submission of the same form (a double tap, Back and submit again, a retry after a lost answer)
is answered with the step's 完了, as the first was, and changes and mails nothing:

- a repeat that comes after the first committed is answered before the view runs (`init_app`'s
  hook), when it passed the CSRF check and the token is the requester's own: the logged-in
  member's, or, once the first answer ended the login (一括解約) or it timed out, the member
  whose login this browser had (the signed session cookie says so). A request
  that fails CSRF is never answered as a repeat: a page elsewhere that posts a spent token,
  even the member's own, gets the stale page, and its session is untouched;
- a repeat that runs alongside the first loses the INSERT (PostgreSQL makes it wait for the
  first transaction; SQLite's BEGIN IMMEDIATE runs them one after the other): `Repeated` rolls
  its transaction back and is answered the same way.

Issuing writes nothing (a GET page may carry a token): the token is signed with SECRET_KEY and
names its step and member, and it is accepted for as long as a login session lives, which is
how long spent tokens are kept. A form without a token (a page from before this release, a
script) is taken as a first submission; a forged, foreign or outdated token gets the
「画面の有効期限切れ」 page.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from flask import current_app, g, request, session
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from markupsafe import Markup
from peewee import IntegrityError

from clock import utcnow
from extensions import db
from models import SpentToken

FIELD = "once"
# In the session cookie from the login on (sessions.start_login_session): whose login this
# browser had, still known once that login has ended (see _requester).
MEMBER_KEY = "once_member"
# step → the answer to a repeat: what the first submission's success answered (its 完了).
_ANSWERS: dict[str, Callable[[], object]] = {}


class Repeated(Exception):  # noqa: N818 (not an error: the step was done already)
    """Raised inside a change's transaction when its token was spent: nothing is written."""

    def __init__(self, step: str):
        self.step = step


def answer_repeats(step: str, answer: Callable[[], object]) -> None:
    """How a feature answers a repeat of its final `step`: usually `completed(its 完了)`."""
    _ANSWERS[step] = answer


def _max_age() -> timedelta:
    return timedelta(hours=current_app.config["ABSOLUTE_TIMEOUT_HOURS"])


def _signer() -> TimestampSigner:
    return TimestampSigner(current_app.config["SECRET_KEY"], salt="once")


def field(step: str) -> Markup:
    """The hidden input of a final form (template global `once`)."""
    value = f"{step}.{g.member.id}.{secrets.token_urlsafe(12)}"
    token = _signer().sign(value).decode()
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, token)


def _read(token: str) -> tuple[str, int] | None:
    """(step, member id) of a token we signed that is still accepted, else None."""
    try:
        value = _signer().unsign(token, max_age=_max_age().total_seconds()).decode()
    except (BadSignature, SignatureExpired, UnicodeDecodeError):
        return None
    step, member_id, _ = value.split(".", 2)
    return step, int(member_id)


def token(step: str) -> str | None:
    """The request's token for `step`, to hand to the change that spends it; None when the
    form had none. A token for another step or member, forged or outdated: the stale page."""
    value = request.form.get(FIELD)
    if value is None:
        return None
    read = _read(value)
    if read is None or read != (step, g.member.id):
        raise CSRFError("one-time token not ours")
    return value


def _key(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def spend(value: str | None, step: str) -> None:
    """Use the token up, inside the caller's transaction (so it is spent exactly when the
    change commits); raises Repeated when it was used before. Also forgets tokens no longer
    accepted."""
    if value is None:
        return
    now = utcnow()
    SpentToken.delete().where(SpentToken.spent_at < now - _max_age() - timedelta(hours=1)).execute()
    try:
        with db.database.atomic():  # a savepoint: PostgreSQL's transaction stays usable
            SpentToken.create(key_hash=_key(value), spent_at=now)
    except IntegrityError:
        raise Repeated(step) from None


def raise_if_spent() -> None:
    """For a view whose checks failed: if that was because this very submission already
    succeeded meanwhile (the checks saw its change), answer as a repeat."""
    step = _spent_step()
    if step is not None:
        raise Repeated(step)


def _requester() -> int | None:
    """Whose repeats this request may be told of: the logged-in member's, or, when the login
    has ended (一括解約, a timeout), those of the member whose login this browser had."""
    return g.member.id if g.member is not None else session.get(MEMBER_KEY)


def fresh_session() -> None:
    """Replace the session by an empty one (a final step that ended the login) that a repeat
    of that step can still reach: it keeps the CSRF token and whose repeats it may hear."""
    member_id, csrf = _requester(), session.get(current_app.config["WTF_CSRF_FIELD_NAME"])
    session.clear()
    if csrf is not None:
        session[current_app.config["WTF_CSRF_FIELD_NAME"]] = csrf
    if member_id is not None:
        session[MEMBER_KEY] = member_id


def _spent_step() -> str | None:
    value = request.form.get(FIELD) if request.method == "POST" else None
    read = value and _read(value)
    if not read or read[0] not in _ANSWERS or read[1] != _requester():
        return None
    if not SpentToken.select().where(SpentToken.key_hash == _key(value)).exists():
        return None
    return read[0]


def repeat_answer():
    """The 完了 answer when the request repeats a submission that succeeded, else None."""
    step = _spent_step()
    return None if step is None else _ANSWERS[step]()


def init_app(app) -> None:
    """After the login is known (a registered hook runs after the blueprints')."""
    app.before_request(repeat_answer)
    app.register_error_handler(Repeated, lambda error: _ANSWERS[error.step]())
    app.jinja_env.globals["once"] = field
