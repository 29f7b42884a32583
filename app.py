"""Web Billing member settings: the application factory."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from playhouse.db_url import connect as connect_url
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import assets
import cli
import clock
import mail as outbox
import migrations
import monitoring
import once
import phones
import ratelimit
from clock import format_jst
from extensions import csrf, db, mail
from rendering import ERROR_TITLES, is_htmx, no_such_step, render

# Every setting can come from a FLASK_-prefixed environment variable (SPEC §4).
DEFAULTS = {
    "EMAIL_CONFIRM_HOURS": 24,
    # Links in mail are built from this, never from the request's Host header. Production
    # refuses to start without a public https:// address; development falls back to DEV_BASE_URL.
    "EXTERNAL_BASE_URL": None,
    "IDLE_TIMEOUT_MINUTES": 30,
    "ABSOLUTE_TIMEOUT_HOURS": 24,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_MINUTES": 30,
    "MAIL_SERVER": None,  # None: mail stays in the outbox (see /dev/mail in debug)
    "MAIL_PORT": 25,
    "MAIL_DEFAULT_SENDER": "webbilling_info@example.jp",
    "MAIL_SUPPRESS_SEND": False,
    "MAIL_DEBUG": False,
    # Each SMTP step gives up after this; a mail's claim lasts 8 times as long (mail.py).
    "MAIL_TIMEOUT_SECONDS": 2,
    # Every serving process delivers the outbox in a background thread (mail.py); the unit
    # tests turn it off and deliver by hand.
    "MAIL_DELIVERY_THREAD": True,
    "WTF_CSRF_TIME_LIMIT": None,  # a form left open all afternoon still posts
    # Rate limits per client address, counted in our database (ratelimit.py) or in
    # RATELIMIT_STORAGE_URI=redis://…. PROXY_FIX_X_FOR: how many reverse proxies add
    # X-Forwarded-For (1 behind deploy/nginx.conf).
    "RATELIMIT_STORAGE_URI": "database://",
    "RATELIMIT_KEY_PREFIX": "webbilling",
    "LOGIN_RATE_LIMIT": "30 per minute; 300 per hour",
    "EMAIL_LINK_RATE_LIMIT": "30 per minute; 300 per hour",
    "EMAIL_CHANGE_RATE_LIMIT": "10 per hour",
    "PROXY_FIX_X_FOR": 0,
    # Take a well-formed X-Request-ID from the proxy instead of making one (monitoring.py);
    # only when every request comes through a proxy that sets it, or clients could choose it.
    "REQUEST_ID_FROM_PROXY": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # The d-account's OpenID provider (all three, or none: no [dアカウントでログイン]).
    "DACCOUNT_ISSUER": None,
    "DACCOUNT_CLIENT_ID": None,
    "DACCOUNT_CLIENT_SECRET": None,
    "DACCOUNT_TIMEOUT_SECONDS": 3,
    # The largest real form (the line screen at 200 + 200 lines) is under 16 KB. A larger body
    # is 413 before it is parsed; nginx refuses it before reading it (deploy/nginx.conf).
    "MAX_CONTENT_LENGTH": 65536,
}
DEV_BASE_URL = "http://localhost:5000"

CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


class _SessionInterface(SecureCookieSessionInterface):
    def save_session(self, app, session, response) -> None:
        super().save_session(app, session, response)
        # A page only this browser may keep, for Back (_security_headers), does not vary with
        # the cookie: a step that replaces the session (一括解約) would lose the page before it.
        if response.cache_control.private:
            response.vary = [v for v in response.vary if v.lower() != "cookie"]


class App(Flask):
    def log_exception(self, exc_info) -> None:
        monitoring.log_exception(self, exc_info)


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    # Our own static route (assets.py) replaces Flask's: compressed and fingerprinted.
    app = App(__name__, instance_path=instance_path, static_folder=None)
    app.session_interface = _SessionInterface()
    app.config.from_mapping(DEFAULTS)
    app.config["SESSION_COOKIE_SECURE"] = not app.debug
    app.config.from_prefixed_env()
    for key in ("DACCOUNT_ISSUER", "DACCOUNT_CLIENT_ID", "DACCOUNT_CLIENT_SECRET"):
        if f"FLASK_{key}" in os.environ:  # strings, even when they read as JSON (12345)
            app.config[key] = os.environ[f"FLASK_{key}"]
    if test_config:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    # The QA clock (development only; production never reads it): see clock.py.
    clock.use_dev_clock(Path(app.instance_path, "dev_clock") if app.debug else None)
    _configure_secret_key(app)
    _check_external_base_url(app)
    app.config.setdefault(
        "DATABASE_URL", f"sqlite:///{Path(app.instance_path, 'webbilling.sqlite3')}"
    )
    app.config["DATABASE"] = open_database(app.config["DATABASE_URL"])
    # One line per request on stderr (monitoring.py); tests turn it on where they read it.
    app.config.setdefault("REQUEST_LOG", not app.testing)

    monitoring.init_app(app)  # first: its hooks frame every other one
    db.init_app(app)
    migrations.refuse_newer(db.database)
    csrf.init_app(app)
    mail.init_app(app)
    outbox.init_app(app)
    ratelimit.init_app(app)
    # The only forwarding header trusted, and only as many entries as proxies were declared
    # (gunicorn itself trusts none: gunicorn.conf.py). Not X-Forwarded-Proto: nothing here
    # depends on the scheme (mail links, Secure cookies and HSTS come from settings).
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])

    from blueprints.account import bp as account_bp
    from blueprints.auth import bp as auth_bp
    from blueprints.cancel import bp as cancel_bp
    from blueprints.credentials import bp as credentials_bp
    from blueprints.daccount import bp as daccount_bp
    from blueprints.dev import bp as dev_bp
    from blueprints.email import bp as email_bp
    from blueprints.lines import bp as lines_bp
    from blueprints.phone import bp as phone_bp
    from blueprints.secret import bp as secret_bp
    from blueprints.secret_auth import bp as secret_auth_bp

    app.register_blueprint(assets.bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(phone_bp)
    app.register_blueprint(secret_auth_bp)
    app.register_blueprint(daccount_bp)
    app.register_blueprint(credentials_bp)
    app.register_blueprint(email_bp)
    app.register_blueprint(secret_bp)
    app.register_blueprint(lines_bp)
    app.register_blueprint(cancel_bp)
    if app.debug:  # the QA tools: in production every /dev URL is a 404
        app.register_blueprint(dev_bp)
    once.init_app(app)  # after the blueprints: its hook needs to know who is logged in

    # Fewer bytes on slow networks: no blank lines or indentation left by template tags.
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(asset_url=assets.asset_url, no_such_step=no_such_step)
    # The macros every card uses (templates/_macros/), loaded once: an {% import %} in each
    # included card would rebuild them on every include, a third of /account's render time.
    forms = app.jinja_env.get_template("_macros/forms.html").module
    app.jinja_env.globals.update(
        flow=app.jinja_env.get_template("_macros/flow.html").module,
        field=forms.field,
        form_errors=forms.form_errors,
    )
    app.jinja_env.filters["jst"] = format_jst
    app.jinja_env.filters["phone"] = phones.display
    app.after_request(assets.compress_page)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    cli.register(app)
    return app


def open_database(url: str):
    """A Peewee database for `url`. Connections are pooled: FlaskDB's per-request
    connect/close then borrows and returns one instead of opening a new one each time.
    SQLite gets WAL, foreign keys and a busy timeout, and every transaction takes the write
    lock up front (BEGIN IMMEDIATE) so two writers never deadlock upgrading a read lock."""
    scheme, rest = url.split("://", 1)
    if not scheme.endswith("+pool"):
        scheme = {"postgres": "postgresql"}.get(scheme, scheme) + "+pool"
    options = {"max_connections": 32, "stale_timeout": 300}
    if scheme == "sqlite+pool":
        options |= {
            "pragmas": {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000},
            "lock_type": "IMMEDIATE",
            "check_same_thread": False,  # a pooled connection may serve another thread later
        }
    return connect_url(f"{scheme}://{rest}", **options)


def _configure_secret_key(app: Flask) -> None:
    if key := app.config.get("SECRET_KEY"):
        size = len(key if isinstance(key, bytes) else str(key).encode())
        if size < 32 and not (app.debug or app.testing):
            raise RuntimeError(
                "FLASK_SECRET_KEY is shorter than 32 bytes: production refuses to start with it."
            )
        return
    if not (app.debug or app.testing):
        raise RuntimeError("FLASK_SECRET_KEY is not set: production refuses to start without it.")
    key_file = Path(app.instance_path, "secret_key")
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def _check_external_base_url(app: Flask) -> None:
    """Every mailed link starts with EXTERNAL_BASE_URL: in production it must be the site's
    public https:// address (a link to localhost, or over plain HTTP, would be useless or
    leak the token)."""
    if app.debug or app.testing:
        app.config["EXTERNAL_BASE_URL"] = app.config["EXTERNAL_BASE_URL"] or DEV_BASE_URL
        return
    parts = urlsplit(str(app.config["EXTERNAL_BASE_URL"] or ""))
    host = parts.hostname or ""
    try:
        address = ipaddress.ip_address(host)
        local = address.is_loopback or address.is_unspecified
    except ValueError:
        local = host == "localhost" or host.endswith(".localhost")
    if parts.scheme != "https" or not host or local:
        raise RuntimeError(
            "FLASK_EXTERNAL_BASE_URL must be the site's public https:// address (mailed links "
            "start with it): production refuses to start without it."
        )


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if current_app.config["SESSION_COOKIE_SECURE"]:  # served over HTTPS only
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if request.endpoint not in assets.STATIC_ENDPOINTS:
        # Pages show personal data: never keep them in a shared cache. A whole page answering
        # a POST (JavaScript off: a confirm step, a form with its errors) may stay in the
        # browser's own cache, only so that Back shows it again instead of the browser's
        # ERR_CACHE_MISS; a history navigation neither revalidates nor resubmits it.
        back_page = request.method == "POST" and not is_htmx()
        headers["Cache-Control"] = "private, no-cache" if back_page else "no-store"
        response.vary.add("HX-Request")
    return response


def _http_error(error: HTTPException):
    """Every error is a Japanese page (or, for htmx, the same message in place of the card)."""
    return render(
        "errors/_error.html",
        title=ERROR_TITLES.get(error.code, "エラー"),
        status=error.code,
        error=error,
    )


def _csrf_error(error: CSRFError):
    # Never a repeat's 完了 (once.py): a request that fails CSRF or comes from another
    # origin may come from anywhere.
    return render("errors/_csrf.html", title="画面の有効期限切れ", status=400)
