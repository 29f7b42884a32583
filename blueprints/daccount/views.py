from flask import g

from blueprints.auth.sessions import login_required
from models import Member
from rendering import completed, render

from . import bp
from .changes import unlink as unlink_d_account

CARD = "daccount/_card.html"
TITLE = "dアカウント連携登録解除"


def card_context(member: Member) -> dict:
    """What the ⑨ card shows, on 基本情報 and in each of its steps."""
    return {"member": member}


def _card(step: str, status: int = 200):
    return render(CARD, title=TITLE, step=step, status=status, **card_context(g.member))


@bp.get("/card")
@login_required
def card():
    return _card("view")


@bp.post("/unlink")
@login_required
def unlink():
    """[解除]: one step, as in the guide."""
    if not unlink_d_account(g.member):
        return _card("not_linked", 409)
    return completed("daccount.done")


@bp.get("/done")
@login_required
def done():
    return _card("done")
