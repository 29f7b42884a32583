from flask import g, redirect, url_for

from blueprints.auth.sessions import login_required
from extensions import db
from models import Member, record_change
from rendering import is_htmx, render

from . import bp
from .forms import SecretAuthForm

CARD = "secret_auth/_card.html"
TITLE = "秘密の質問による認証設定"


def _card(step: str, form: SecretAuthForm | None = None, status: int = 200):
    return render(CARD, title=TITLE, step=step, form=form, member=g.member, status=status)


@bp.get("/card")
@login_required
def card():
    """The ⑧ item as 基本情報 shows it."""
    return _card("view")


@bp.get("")
@bp.post("/edit")
@login_required
def edit():
    """設定する / 設定しない (a POST here is 戻る from the confirm step)."""
    form = SecretAuthForm(member=g.member)
    if not form.is_submitted():
        form.setting.data = "off" if g.member.secret_auth_enabled else "on"
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
    with db.database.atomic():
        Member.update(secret_auth_enabled=form.enabled).where(Member.id == g.member.id).execute()
        record_change(g.member, TITLE, "設定する" if form.enabled else "設定しない")
    if not is_htmx():
        return redirect(url_for("secret_auth.done"), 303)
    g.member.secret_auth_enabled = form.enabled
    return _card("done")


@bp.get("/done")
@login_required
def done():
    """秘密の質問による認証設定完了."""
    return _card("done")
