"""/dev/mail: the development mailbox (registered only in debug mode), so QA can open the
links in mail that, with no MAIL_SERVER configured, never leaves the outbox."""

import re

from flask import Blueprint, render_template
from markupsafe import Markup, escape

from models import OutboxMail

bp = Blueprint("devmail", __name__, url_prefix="/dev")
_URL = re.compile(r"https?://[^\s<>\"']+")


@bp.route("/mail")
def outbox():
    messages = OutboxMail.select().order_by(OutboxMail.id.desc()).limit(50)
    return render_template("devmail/outbox.html", messages=messages)


@bp.app_template_filter("linkify")
def linkify(text: str) -> Markup:
    """Escape `text`, then make its http(s) URLs clickable."""
    return Markup(  # noqa: S704 — the text is escaped first; only the <a> tags are ours
        _URL.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', str(escape(text)))
    )
