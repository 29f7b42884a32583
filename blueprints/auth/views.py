from __future__ import annotations

from datetime import datetime, timedelta

from flask import flash, g, redirect, render_template, request, session, url_for

import ratelimit
from clock import utcnow
from models import Member

from . import bp
from .forms import LoginForm, SecretAnswerForm
from .login import check_member_secret, check_password
from .sessions import end_login_session, load_login, safe_next, start_login_session

FAILED = "ログインIDまたはログインパスワードが正しくありません。"
CANCELLED = "Webビリングは解約済みのため、ログインできません。"
PENDING_KEY = "pending_login"
PENDING_FOR = timedelta(minutes=10)

bp.before_app_request(load_login)


@bp.route("/login", methods=["GET", "POST"])
@ratelimit.limit("LOGIN_RATE_LIMIT", "login", methods=("POST",))
def login():
    """Login page: login ID and password, then the secret question when the member has it on."""
    if g.member is not None:
        return redirect(url_for("account.top"))
    form = LoginForm()
    if not form.is_submitted():
        form.next.data = safe_next(request.args.get("next", ""))
    if form.validate_on_submit():
        member = check_password(form.login_id.data, form.password.data)
        if member is None:
            form.form_errors.append(FAILED)
        elif member.is_cancelled:
            form.form_errors.append(CANCELLED)
        else:
            return begin_login(member, form.next.data)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/login/secret", methods=["GET", "POST"])
def login_secret():
    """Second login step: the member's secret question."""
    pending = session.get(PENDING_KEY)
    member = _pending_member(pending)
    if member is None:
        session.pop(PENDING_KEY, None)
        flash("もう一度ログインIDとログインパスワードを入力してください。")
        return redirect(url_for("auth.login"), 303)
    form = SecretAnswerForm()
    if form.validate_on_submit():
        if check_member_secret(member, member.secret_answer_hash, form.answer.data):
            return _logged_in(member, pending.get("next"))
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
    return redirect(url_for("auth.login"), 303)


def begin_login(member: Member, next_url: str | None):
    """A member has proved who they are (ID and password, or a linked d-account): the secret
    question comes next when they have it on, else they are logged in. Every way of logging in
    goes through here."""
    if member.secret_auth_enabled and member.secret_answer_hash:
        session.clear()
        session[PENDING_KEY] = {
            "member": member.id,
            "at": utcnow().isoformat(),
            "next": safe_next(next_url or ""),
        }
        return redirect(url_for("auth.login_secret"), 303)
    return _logged_in(member, next_url)


def _logged_in(member: Member, next_url: str | None):
    start_login_session(member)
    return redirect(safe_next(next_url or "") or url_for("account.top"), 303)


def _pending_member(pending: dict | None) -> Member | None:
    if not pending:
        return None
    if utcnow() - datetime.fromisoformat(pending["at"]) > PENDING_FOR:
        return None
    member = Member.get_or_none(Member.id == pending["member"])
    if member is None or member.is_cancelled or member.is_locked(utcnow()):
        return None
    return member
