"""Looking after a running server: a request id for every request (the X-Request-ID header, and
お問い合わせ番号 on error pages), one log line per request on stderr, and /healthz.

The log line is `[time] ID METHOD PATH STATUS DURATIONms`. It is the only request log: it
replaces gunicorn's access log and Werkzeug's request lines under `flask run`, which would write
URLs as they came. PATH keeps only what cannot be secret, namely the route's fixed parts and its
any(...) choices; every other URL variable (the mailed link's token) becomes …, a URL no route
matched keeps only its first segment, and a query string is never written (only `?…` says
there was one). Nothing of a form, a cookie or a header is written.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from flask.logging import wsgi_errors_stream
from peewee import DatabaseError

import migrations
from assets import STATIC_ENDPOINTS
from extensions import db

bp = Blueprint("monitoring", __name__)

# stderr (the server's error stream: gunicorn's error log, like Flask's own log messages).
log = logging.getLogger("webbilling.requests")
log.setLevel(logging.INFO)
log.propagate = False
_handler = logging.StreamHandler(wsgi_errors_stream)
_handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s"))
log.addHandler(_handler)

# What a trusted proxy may send as X-Request-ID (nginx's $request_id is 32 hex digits).
PROXY_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
URL_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _not_a_request_line(record: logging.LogRecord) -> bool:
    """False for the development server's line per request, `<address> - - [<date>] "%s" %s
    %s` (Werkzeug's WSGIRequestHandler.log_request), which writes the URL as it came."""
    return not str(record.msg).endswith('] "%s" %s %s')


def init_app(app: Flask) -> None:
    """Call before anything else registers request hooks: the id and the clock start first,
    and the line is written after every other after_request hook (they run in reverse).
    Under `flask run`, Werkzeug's own request lines are dropped; its startup banner, reloader
    notices and errors stay."""
    logging.getLogger("werkzeug").addFilter(_not_a_request_line)
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)


def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id = _request_id()


def _request_id() -> str:
    """12 random digits in groups of four: easy to read out on the phone to 受付担当."""
    if current_app.config["REQUEST_ID_FROM_PROXY"]:
        given = request.headers.get("X-Request-ID", "")
        if PROXY_ID.fullmatch(given):
            return given
    digits = f"{secrets.randbelow(10**12):012d}"
    return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.request_id
    if current_app.config["REQUEST_LOG"]:
        took = (time.perf_counter() - g.request_started) * 1000
        log.info(
            "%s %s %s %d %.1fms",
            g.request_id,
            request.method,
            logged_path(),
            response.status_code,
            took,
        )
    return response


def logged_path() -> str:
    """The request's path with nothing in it that could be a secret (see the module's doc)."""
    rule = request.url_rule
    if rule is None:
        first, slash, _ = request.path[1:].partition("/")
        path = f"/{first}/…" if slash else f"/{first}"
    elif request.endpoint in STATIC_ENDPOINTS:
        path = request.path  # files anyone may fetch
    else:

        def value(match: re.Match) -> str:
            return str(request.view_args[match[2]]) if match[1] == "any" else "…"

        path = URL_VARIABLE.sub(value, rule.rule)
    return path + ("?…" if request.query_string else "")


def log_exception(app: Flask, exc_info) -> None:
    """An unhandled exception's traceback, named by the request id and the logged path
    (Flask's own message names the raw path, which may carry a token)."""
    app.logger.error(
        "%s %s %s: unhandled exception",
        g.get("request_id"),
        request.method,
        logged_path(),
        exc_info=exc_info,
    )


@bp.get("/healthz")
def healthz():
    """200 when the database answers and is at this code's schema version; 503 otherwise (a
    forgotten init-db, or another server already upgraded the database). No session, no
    per-request connection (extensions.BARE_ENDPOINTS): one short read, nothing written."""
    try:
        with db.database.connection_context():
            version = migrations.current_version(db.database)
    except DatabaseError:
        return _plain("database unreachable", 503)
    if version != migrations.LATEST:
        return _plain(f"schema {version}, code {migrations.LATEST}", 503)
    return _plain("ok", 200)


def _plain(text: str, status: int) -> Response:
    return Response(text + "\n", status, mimetype="text/plain")
