from flask import g, render_template

from blueprints.auth.sessions import login_required
from blueprints.cancel import views as cancel
from blueprints.credentials import views as credentials
from blueprints.daccount import views as daccount
from blueprints.email import views as email
from blueprints.lines import views as lines
from blueprints.phone import views as phone
from blueprints.secret_auth import views as secret_auth
from models import ChangeHistory

from . import bp

HISTORY_LIMIT = 100
# The features whose cards 基本情報 shows (④ ⑥ ⑦ ⑧ ⑨ ⑩ ⑪); each says what its card needs.
CARDS = (phone, email, lines, secret_auth, daccount, credentials, cancel)


@bp.route("/")
@login_required
def top():
    """WebビリングTOP: the main menu."""
    return render_template("account/top.html")


@bp.route("/account")
@login_required
def index():
    """基本情報: the member's 11 items, each card in its view step."""
    context = {"member": g.member}
    for feature in CARDS:
        context |= feature.card_context(g.member)
    return render_template("account/index.html", step="view", **context)


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
