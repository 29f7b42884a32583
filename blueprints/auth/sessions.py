"""Server-side login sessions.

The signed Flask cookie holds a random token; the `LoginSession` row (found by the token's
SHA-256) is what makes it a login. Logout, a password change or a cancellation delete rows, so
a replayed old cookie is no longer logged in, on this app server or any other.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, flash, g, request, session, url_for

import once
from clock import utcnow
from extensions import BARE_ENDPOINTS, db
from models import LoginSession, Member, PendingLogin
from prepared import Prepared
from rendering import client_redirect, is_htmx

SESSION_KEY = "sid"
# A d-account waiting to be linked (blueprints/daccount/views.py) lives in the session, so that
# logout and every login drop it with the rest; only the login of the member it was bound to at
# 連携登録 keeps it (their secret question may come between).
LINK_KEY = "daccount_link"
# last_seen_at is written at most once a minute, so idle expiry is exact to within a minute.
TOUCH_EVERY = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(member: Member) -> bool:
    """Log `member` in with a brand-new session (no fixation) that replaces this browser's
    (ended, whoever's it was), record the login time and clear the failure count; False
    (nothing done) when the account got locked meanwhile: a lock set while the member's last
    check ran is never cleared by it (see login.py)."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    with db.database.atomic():
        started = (
            Member.update(last_login_at=now, failed_logins=0, locked_until=None)
            .where(
                (Member.id == member.id)
                & (Member.locked_until.is_null() | (Member.locked_until <= now))
            )
            .execute()
        )
        if not started:
            return False
        if g.login is not None:
            LoginSession.delete().where(LoginSession.id == g.login.id).execute()
        LoginSession.create(
            token_hash=digest(token),
            member=member,
            created_at=now,
            last_seen_at=now,
            previous_login_at=member.last_login_at,
        )
    link = session.get(LINK_KEY)
    session.clear()
    if link is not None and link["member"] == member.id:
        session[LINK_KEY] = link
    session[SESSION_KEY] = token
    session[once.MEMBER_KEY] = member.id  # in this login's first cookie, not a later one
    g.login_changed = True
    return True


def end_login_session() -> None:
    if g.login is not None:
        LoginSession.delete().where(LoginSession.id == g.login.id).execute()
    session.clear()
    g.login_changed = True


def after_credential_change(member: Member) -> tuple[str, int]:
    """After a credential change, inside its transaction: log the member out everywhere else,
    void their pending login steps, and give this session a new token (a copy of the old cookie
    opens nothing, as after a login). Returns the token (`keep_token()` it once committed) and
    how many other sessions were ended."""
    ended = (
        LoginSession.delete()
        .where((LoginSession.member == member.id) & (LoginSession.id != g.login.id))
        .execute()
    )
    PendingLogin.delete().where(PendingLogin.member == member.id).execute()
    token = secrets.token_urlsafe(32)
    LoginSession.update(token_hash=digest(token)).where(LoginSession.id == g.login.id).execute()
    return token, ended


def keep_token(token: str) -> None:
    session[SESSION_KEY] = token


def end_all_sessions(member: Member) -> None:
    LoginSession.delete().where(LoginSession.member == member.id).execute()


def load_login() -> None:
    """Before every request: who is logged in, if anyone, and is the session still alive?"""
    g.login = g.member = None
    g.login_expired = False
    if request.endpoint in BARE_ENDPOINTS or request.blueprint == "dev":
        # The QA tools (development only) are no member's activity: they neither keep a
        # session alive nor end it, so the next member page shows what timed out.
        return
    token = session.get(SESSION_KEY)
    if token is None:
        return
    login = next(iter(_find_login(digest(token))), None)
    now = utcnow()
    config = current_app.config
    if (
        login is None
        or login.member.is_cancelled
        or now - login.last_seen_at > timedelta(minutes=config["IDLE_TIMEOUT_MINUTES"])
        or now - login.created_at > timedelta(hours=config["ABSOLUTE_TIMEOUT_HOURS"])
    ):
        if login is not None:
            LoginSession.delete().where(LoginSession.id == login.id).execute()
        session.pop(SESSION_KEY)
        g.login_expired = True
        return
    if now - login.last_seen_at >= TOUCH_EVERY:
        LoginSession.update(last_seen_at=now).where(LoginSession.id == login.id).execute()
    g.login, g.member = login, login.member


def forget_kept_pages(response):
    """After every request: when this browser's login changed hands (a login started or ended,
    or a session was found ended: timed out, purged, ended elsewhere), the browser drops the
    pages it kept for Back (app.py: confirm steps answering a POST, a secret answer among them),
    so the next person's Back finds none. The member's own live session keeps them."""
    if g.get("login_changed") or g.get("login_expired"):
        response.headers["Clear-Site-Data"] = '"cache"'
    return response


# The session row and its member, in one query on every request.
_find_login = Prepared(
    lambda token_hash: (
        LoginSession.select(LoginSession, Member)
        .join(Member)
        .where(LoginSession.token_hash == token_hash)
    ),
    str,
)


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.member is None:
            return redirect_to_login()
        return view(*args, **kwargs)

    return wrapped


def redirect_to_login():
    """Send the visitor to /login, remembering where they were so they land back there."""
    if g.login_expired:
        flash("一定時間が経過したため、ログアウトしました。もう一度ログインしてください。")
    return client_redirect(url_for("auth.login", next=where_they_were()))


def where_they_were() -> str:
    if is_htmx():
        return safe_next(request.headers.get("HX-Current-URL", "")) or url_for("account.index")
    if request.method == "GET":
        return request.full_path.rstrip("?")
    return safe_next(request.referrer or "") or url_for("account.index")


def safe_next(url: str) -> str | None:
    """The path of `url` if it points into this site, else None (no open redirect, and no
    error for a malformed address such as "http://[")."""
    try:
        parts = urlsplit(url.replace("\\", "/"))
    except ValueError:
        return None
    if parts.netloc and parts.netloc != request.host:
        return None
    if parts.scheme not in ("", "http", "https") or not parts.path.startswith("/"):
        return None
    if parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
