from flask import g, render_template

from blueprints.auth.sessions import login_required
from models import ChangeHistory

from . import bp

HISTORY_LIMIT = 100


@bp.route("/")
@login_required
def top():
    """WebビリングTOP: the main menu."""
    return render_template("account/top.html")


@bp.route("/account")
@login_required
def index():
    """基本情報: the member's 11 items, each with the button that starts its change flow."""
    return render_template("account/index.html", member=g.member)


@bp.route("/account/history")
@login_required
def history():
    """変更履歴: this member's own changes, newest first."""
    changes = (
        ChangeHistory.select()
        .where(ChangeHistory.member == g.member.id)
        .order_by(ChangeHistory.created_at.desc(), ChangeHistory.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return render_template("account/history.html", changes=changes, limit=HISTORY_LIMIT)
