"""dアカウント連携登録解除 (guide section 7): [解除] → the ⑨ item shows 未登録."""

from flask import Blueprint, g, redirect, url_for

from blueprints.auth.sessions import login_required
from extensions import db
from models import Member, record_change
from rendering import is_htmx, render

bp = Blueprint("daccount", __name__, url_prefix="/account/d-account")

CARD = "daccount/_card.html"
TITLE = "dアカウント連携登録解除"


@bp.get("/card")
@login_required
def card():
    return render(CARD, title=TITLE, step="view", member=g.member)


@bp.post("/unlink")
@login_required
def unlink():
    """[解除]: one step, as in the guide. The conditional UPDATE makes a repeated or forged
    POST for a member who is not linked change nothing, and the card says so."""
    with db.database.atomic():
        unlinked = (
            Member.update(d_account_linked=False)
            .where((Member.id == g.member.id) & Member.d_account_linked)
            .execute()
        )
        if unlinked:
            record_change(g.member, "dアカウント連携", "登録解除")
    if not unlinked:
        return render(CARD, title=TITLE, step="not_linked", member=g.member, status=409)
    if not is_htmx():
        return redirect(url_for("daccount.done"), 303)
    g.member.d_account_linked = False
    return render(CARD, title=TITLE, step="done", member=g.member)


@bp.get("/done")
@login_required
def done():
    return render(CARD, title=TITLE, step="done", member=g.member)
