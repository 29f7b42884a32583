from flask import g, redirect, session, url_for

import once
from blueprints.auth.sessions import login_required
from models import Member
from rendering import client_redirect, render

from . import bp
from .changes import cancel_membership
from .forms import CancelForm

CARD = "cancel/_card.html"
TITLE = "Webビリング一括解約"
# Set in the (new, empty) session of the browser that just cancelled, so only it sees 完了.
DONE_KEY = "cancel_done"


def card_context(member: Member) -> dict:
    """What the ⑪ card shows (only its button)."""
    return {}


def _card(step: str, form: CancelForm | None = None, status: int = 200, title: str = TITLE):
    return render(CARD, title=title, step=step, form=form, status=status)


@bp.get("/card")
@login_required
def card():
    """The ⑪ item as 基本情報 shows it (where キャンセル goes back to)."""
    return _card("view")


@bp.get("")
@login_required
def start():
    """What 一括解約 means, with [解約する] (from ⑪ [解約] or the line screen)."""
    return _card("start")


@bp.get("/reason")
@bp.post("/reason")
@login_required
def reason():
    """解約理由 (a POST here is 戻る from the confirm step, keeping the choice)."""
    return _card("reason", CancelForm())


@bp.post("/confirm")
@login_required
def confirm():
    form = CancelForm()
    if not form.validate():
        return _card("reason", form, 422)
    return _card("confirm", form)


@bp.post("")
@login_required
def cancel():
    """[解約する]: the membership ends (see changes.py); this browser then sees 完了, as a
    whole new page: the header (name, ログアウト) belongs to the ended session."""
    form = CancelForm()
    if not form.validate():
        return _card("reason", form, 422)
    cancel_membership(g.member, form.reason.data, once.token("cancel"))
    return _finished()


def _finished():
    """To 完了 as a new page, in a fresh session holding only the mark (also the answer to
    a repeat of [解約する], whose session, if any, ended with the first)."""
    once.fresh_session()
    session[DONE_KEY] = True
    g.member = g.login = None
    return client_redirect(url_for("cancel.done"))


@bp.get("/done")
def done():
    """一括解約完了: needs no login (there is none any more), only the mark of the browser that
    just cancelled."""
    if not session.pop(DONE_KEY, False):
        return redirect(url_for("auth.login"), 303)
    return _card("done", title=f"{TITLE}完了")


once.answer_repeats("cancel", _finished)
