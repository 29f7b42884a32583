"""QA tools at /dev (「QAツール」), for development mode only: create_app registers this
blueprint only when app.debug, so in production every /dev URL is a 404; the `flask dev …`
commands (cli.py here) refuse to run there.

The QA page resets the demo data, puts a demo member into a state a guide screen needs
(scenarios.py), moves the app's clock (clock.py), and /dev/mail is the mailbox for mail that,
with no MAIL_SERVER configured, never leaves the outbox.
"""

from flask import Blueprint

bp = Blueprint("dev", __name__, url_prefix="/dev")

from . import views  # noqa: E402,F401  (routes register on import)
