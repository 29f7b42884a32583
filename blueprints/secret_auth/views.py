from flask import g

import once
from blueprints.auth.sessions import login_required
from models import Member
from rendering import completed, render

from . import bp
from .changes import set_secret_auth
from .forms import SecretAuthForm

CARD = "secret_auth/_card.html"
TITLE = "秘密の質問による認証設定"


def card_context(member: Member) -> dict:
    """What the ⑧ card shows, on 基本情報 and in each of its steps."""
    return {"member": member}


def _card(step: str, form: SecretAuthForm | None = None, status: int = 200):
    return render(CARD, title=TITLE, step=step, form=form, status=status, **card_context(g.member))


@bp.get("/card")
@login_required
def card():
    """The ⑧ item as 基本情報 shows it."""
    return _card("view")


@bp.get("")
@bp.post("/edit")
@login_required
def edit():
    """設定する / 設定しない, the current one ticked and named (a POST here is 戻る from the
    confirm step)."""
    form = SecretAuthForm(member=g.member)
    if not form.is_submitted():
        form.setting.data = "on" if g.member.secret_auth_enabled else "off"
    return _card("edit", form)


@bp.post("/confirm")
@login_required
def confirm():
    form = SecretAuthForm(member=g.member)
    if not form.validate():
        return _card("edit", form, 422)
    return _card("confirm", form)


@bp.post("")
@login_required
def update():
    """[登録する]: check again, then store."""
    form = SecretAuthForm(member=g.member)
    if not form.validate():
        return _card("edit", form, 422)
    set_secret_auth(g.member, form.enabled, once.token("secret_auth"))
    return completed("secret_auth.done")


@bp.get("/done")
@login_required
def done():
    """秘密の質問による認証設定完了."""
    return _card("done")


once.answer_repeats("secret_auth", lambda: completed("secret_auth.done"))
