from flask import flash, g, render_template, request, url_for

import once
from blueprints.auth.sessions import end_login_session, login_required
from models import Member
from rendering import client_redirect, completed, is_htmx, render

from . import bp, rules
from .changes import Outcome, change_credentials
from .forms import DONE_TITLES, TARGETS, ChooseForm, CredentialsForm

CARD = "credentials/_card.html"
TITLE = "ログインID/パスワード変更"
SUBMIT_RULES = {"login_id": rules.LOGIN_ID_SUBMIT_RULES, "password": rules.PASSWORD_SUBMIT_RULES}
LOCKED_OUT = "現在のログインパスワードを続けて誤ったため、ログアウトしました。"


def card_context(member: Member) -> dict:
    """What the ⑩ card shows, on 基本情報 and in each of its steps."""
    return {"member": member, "submit_rules": SUBMIT_RULES, "done_titles": DONE_TITLES}


def _card(step: str, form=None, status: int = 200, **context):
    # htmx morphs a 422 in, keeping the typed passwords (base.html): their checklist stays.
    context.setdefault("passwords_kept", is_htmx())
    return render(
        CARD, title=TITLE, step=step, form=form, status=status, **card_context(g.member), **context
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
    """[更新]: every check, all failures shown at once (changes.change_credentials)."""
    form = CredentialsForm(member=g.member)
    outcome = change_credentials(g.member, form, once.token("credentials"))
    if outcome is Outcome.NO_CHOICE:
        return _card("choose", form, 422)
    if outcome is Outcome.INVALID:
        # The same submission may have succeeded meanwhile, and these checks seen its new
        # ID or password in the history: that is a repeat, not a mistake.
        once.raise_if_spent()
        return _card("edit", form, 422)
    if outcome is Outcome.LOCKED_OUT:
        # The account is locked now: this session ends, and the login page refuses the
        # member until the lock expires.
        end_login_session()
        flash(LOCKED_OUT)
        return client_redirect(url_for("auth.login"))
    return completed("credentials.done", target=form.target.data)


@bp.get("/done/<any(login_id, password, both):target>")
@login_required
def done(target: str):
    """The 完了 of the chosen variant (where the no-JavaScript flow lands after its 303)."""
    return _card("done", target=target)


def _done_again():
    target = request.form.get("target")
    return completed("credentials.done", target=target if target in TARGETS else "password")


once.answer_repeats("credentials", _done_again)
