from __future__ import annotations

import secrets
from datetime import timedelta

from flask import flash, g, redirect, render_template, request, session, url_for

import ratelimit
from clock import utcnow
from extensions import db
from models import Member, PendingLogin

from . import bp
from .forms import LoginForm, SecretAnswerForm
from .login import check_member_secret, check_password
from .sessions import (
    digest,
    end_login_session,
    forget_kept_pages,
    load_login,
    safe_next,
    start_login_session,
)

FAILED = "ログインIDまたはログインパスワードが正しくありません。"
CANCELLED = "Webビリングは解約済みのため、ログインできません。"
PENDING_KEY = "pending_login"
PENDING_FOR = timedelta(minutes=10)
AGAIN = "もう一度ログインIDとログインパスワードを入力してください。"
USED = "このログインの手続きは完了済みか、無効になりました。" + AGAIN
EXPIRED = "秘密の質問への回答の有効期限（10分）が過ぎました。" + AGAIN

bp.before_app_request(load_login)
bp.after_app_request(forget_kept_pages)


@bp.route("/login", methods=["GET", "POST"])
@ratelimit.limit("LOGIN_RATE_LIMIT", "login", methods=("POST",))
def login():
    """Login page: login ID and password, then the secret question when the member has it on."""
    if g.member is not None:
        return redirect(url_for("account.top"))
    form = LoginForm()
    if not form.is_submitted():
        form.next.data = safe_next(request.args.get("next", ""))
    if form.validate_on_submit() and (member := proven_member(form)):
        return begin_login(member, form.next.data)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form), status


def proven_member(form: LoginForm) -> Member | None:
    """The member whose login ID and password the submitted form holds, or None with the
    form's message set: one for an unknown ID, a wrong password and a locked account alike;
    a cancelled member's right password is told it is cancelled. The login page's check, also
    the d-account link's."""
    member = check_password(form.login_id.data, form.password.data)
    if member is None or member.is_cancelled:
        form.form_errors.append(FAILED if member is None else CANCELLED)
        return None
    return member


@bp.route("/login/secret", methods=["GET", "POST"])
def login_secret():
    """Second login step: the member's secret question."""
    pending, problem = _pending_login()
    if pending is None:
        session.pop(PENDING_KEY, None)
        flash(problem)
        return redirect(url_for("auth.login"), 303)
    member = pending.member
    form = SecretAnswerForm()
    if form.validate_on_submit():
        if check_member_secret(member, member.secret_answer_hash, form.answer.data):
            # Spent before the session starts: of two copies of this step, one logs in.
            with db.database.atomic():
                spent = PendingLogin.delete().where(PendingLogin.id == pending.id).execute()
                if spent and start_login_session(member):
                    landing = safe_next(pending.next_url or "") or url_for("account.top")
                    return redirect(landing, 303)
            session.pop(PENDING_KEY, None)
            flash(FAILED if spent else USED)  # spent but locked meanwhile: as a locked login
            return redirect(url_for("auth.login"), 303)
        form.answer.errors.append("秘密の質問の回答が正しくありません。")
        if Member.get_by_id(member.id).is_locked(utcnow()):
            session.pop(PENDING_KEY, None)
            flash(FAILED)
            return redirect(url_for("auth.login"), 303)
    status = 422 if form.errors else 200
    return render_template("auth/login_secret.html", form=form, member=member), status


@bp.route("/logout", methods=["POST"])
def logout():
    end_login_session()
    flash("ログアウトしました。")
    return redirect(url_for("auth.login"), 303)  # with the kept pages (forget_kept_pages)


def begin_login(member: Member, next_url: str | None):
    """A member has proved who they are (ID and password, or a linked d-account): the secret
    question comes next when they have it on, else they are logged in. Every way of logging in
    goes through here."""
    if member.secret_auth_enabled and member.secret_answer_hash:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with db.database.atomic():
            PendingLogin.delete().where(PendingLogin.created_at < now - PENDING_FOR).execute()
            PendingLogin.create(
                token_hash=digest(token),
                member=member,
                created_at=now,
                next_url=safe_next(next_url or ""),
            )
        end_login_session()  # the session this login replaces, if any
        session[PENDING_KEY] = token
        return redirect(url_for("auth.login_secret"), 303)
    if not start_login_session(member):
        flash(FAILED)  # locked by another attempt while this one was checked
        return redirect(url_for("auth.login"), 303)
    return redirect(safe_next(next_url or "") or url_for("account.top"), 303)


def _pending_login() -> tuple[PendingLogin | None, str]:
    """This browser's pending login step, or None and why not. The step lives on the server:
    its row is gone once used or once the member's login ID or password changed."""
    token = session.get(PENDING_KEY)
    found = None
    if isinstance(token, str):
        found = (
            PendingLogin.select(PendingLogin, Member)
            .join(Member)
            .where(PendingLogin.token_hash == digest(token))
            .first()
        )
    if found is None:
        return None, USED if token else AGAIN
    now = utcnow()
    if now - found.created_at > PENDING_FOR:
        return None, EXPIRED
    if found.member.is_cancelled or found.member.is_locked(now):
        return None, AGAIN
    return found, ""
