from flask import flash, g, redirect, render_template, request, url_for
from peewee import IntegrityError

from blueprints.auth.login import check_member_secret
from blueprints.auth.sessions import end_login_session, login_required
from hashing import hash_secret
from models import Member
from rendering import is_htmx, render

from . import bp, rules
from .change import (
    is_locked,
    login_id_taken,
    older_password_hashes,
    recent_login_ids,
    store_change,
)
from .forms import DONE_TITLES, ChooseForm, CredentialsForm

CARD = "credentials/_card.html"
TITLE = "ログインID/パスワード変更"
SUBMIT_RULES = {"login_id": rules.LOGIN_ID_SUBMIT_RULES, "password": rules.PASSWORD_SUBMIT_RULES}
WRONG_LOGIN_ID = "現在のログインIDが正しくありません。"
WRONG_PASSWORD = "現在のログインパスワードが正しくありません。"
LOCKED_OUT = "現在のログインパスワードを続けて誤ったため、ログアウトしました。"


def _card(step: str, form=None, status: int = 200, **context):
    return render(
        CARD,
        title=TITLE,
        step=step,
        form=form,
        member=g.member,
        status=status,
        submit_rules=SUBMIT_RULES,
        done_titles=DONE_TITLES,
        **context,
    )


@bp.get("/card")
@login_required
def card():
    """The ⑩ item as 基本情報 shows it (where キャンセル goes back to)."""
    return _card("view")


@bp.get("")
@login_required
def choose():
    """Step 1: ID, password or both (戻る from step 2 comes back with its choice ticked)."""
    return _card("choose", ChooseForm(target=request.args.get("target")))


@bp.post("/edit")
@login_required
def edit():
    """Step 2: the fields of the chosen variant."""
    choice = ChooseForm()
    if not choice.validate():
        return _card("choose", choice, 422)
    return _card("edit", CredentialsForm(member=g.member))


@bp.post("/check/<any(login_id, password):what>")
@login_required
def check(what: str):
    """The rule checklist under the new ID or password, refreshed by htmx while typing.
    Pure rules only: nothing here tells whether an ID belongs to someone else."""
    form = CredentialsForm(member=g.member)
    return render_template(
        "credentials/_rules.html", items=form.checklist(what), later=SUBMIT_RULES[what]
    )


@bp.post("")
@login_required
def update():
    """[更新]: every rule is checked (all failures shown at once), then the change is stored."""
    member = g.member
    form = CredentialsForm(member=member)
    form.validate()
    if form.target.errors:  # no choice or a tampered one: back to step 1
        return _card("choose", form, 422)

    current_ok = bool(form.current_password.data)
    if form.value("current_login_id") and form.current_login_id.data.lower() != member.login_id_key:
        form.current_login_id.errors.append(WRONG_LOGIN_ID)
        current_ok = False
    if form.current_password.data and not check_member_secret(
        member, member.password_hash, form.current_password.data
    ):
        if is_locked(member):
            return _locked_out()
        form.current_password.errors.append(WRONG_PASSWORD)
        current_ok = False
    # History and uniqueness only once the current values are right, so that someone holding
    # just a session cannot use them to learn old passwords or whose an ID is.
    if current_ok:
        _check_history_and_uniqueness(form, member)
    if form.has_errors():
        return _card("edit", form, 422)

    target = form.target.data
    new_login_id = form.new_login_id.data if form.changes("login_id") else None
    new_hash = hash_secret(form.new_password.data) if form.changes("password") else None
    try:
        store_change(member, target, new_login_id, new_hash)
    except IntegrityError:  # another member took the same ID a moment ago
        form.new_login_id.errors.append(rules.LOGIN_ID_TAKEN)
        return _card("edit", form, 422)
    if not is_htmx():
        return redirect(url_for("credentials.done", target=target), 303)
    g.member = Member.get_by_id(member.id)
    return _card("done", target=target)


def _check_history_and_uniqueness(form: CredentialsForm, member: Member) -> None:
    if form.changes("login_id") and not form.new_login_id.errors:
        if rules.login_id_reused(form.new_login_id.data, recent_login_ids(member)):
            form.new_login_id.errors.append(rules.LOGIN_ID_REUSED)
        elif login_id_taken(form.new_login_id.data, member):
            form.new_login_id.errors.append(rules.LOGIN_ID_TAKEN)
    if (
        form.changes("password")
        and not form.new_password.errors
        and rules.password_reused(
            form.new_password.data, form.current_password.data, older_password_hashes(member)
        )
    ):
        form.new_password.errors.append(rules.PASSWORD_REUSED)


def _locked_out():
    """The current password was wrong once too often: the account is locked, this session ends
    (the login page then refuses the member until the lock expires)."""
    end_login_session()
    flash(LOCKED_OUT)
    target = url_for("auth.login")
    if is_htmx():
        return "", 200, {"HX-Redirect": target}
    return redirect(target, 303)


@bp.get("/done/<any(login_id, password, both):target>")
@login_required
def done(target: str):
    """The 完了 of the chosen variant (where the no-JavaScript flow lands after its 303)."""
    return _card("done", target=target)
