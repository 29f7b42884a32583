from flask import g, render_template

from blueprints.auth.sessions import login_required

from . import bp


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
