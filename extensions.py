"""Extension objects, created unbound and wired to the app in create_app()."""

from urllib.parse import urlsplit

import flask_wtf.csrf
from flask import current_app, request
from flask_mail import Mail
from playhouse.flask_utils import FlaskDB

from assets import STATIC_ENDPOINTS

# No per-request connection and no login check (auth.sessions.load_login): static files, and
# /healthz, which opens its own connection and must not touch a session.
BARE_ENDPOINTS = STATIC_ENDPOINTS | {"monitoring.healthz"}
DEFAULT_PORTS = {"http": 80, "https": 443}


class CrossSiteRequest(flask_wtf.csrf.CSRFError):
    """A POST another origin sent: refused like a bad token, but never taken for a repeat."""


class CSRFProtect(flask_wtf.csrf.CSRFProtect):
    """Flask-WTF's token check, after a check of where the POST comes from (README, Decisions:
    behind a TLS-terminating proxy Flask-WTF's own Referer check never runs)."""

    def protect(self, apply_exemptions=False):
        if request.method in current_app.config["WTF_CSRF_METHODS"] and _from_another_site():
            raise CrossSiteRequest("The request comes from another origin.")
        super().protect(apply_exemptions)


def _from_another_site() -> bool:
    """Sec-Fetch-Site says cross-site, or Origin is present and not the site's: in production
    EXTERNAL_BASE_URL's; in development (no fixed address) the request's own. `Origin: null`
    (a sandboxed frame, a redirect from elsewhere) is foreign; no Origin (an old browser, a
    script) and `same-site` are left to the token and the exact Origin comparison."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    site = request.host_url if current_app.debug else current_app.config["EXTERNAL_BASE_URL"]
    return origin == "null" or _origin(origin) != _origin(site)


def _origin(url: str) -> tuple | None:
    """(scheme, host, port) of `url`, the port filled in; None if it is not a URL."""
    try:
        parts = urlsplit(url)
        return parts.scheme, parts.hostname, parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a port that is not a number
        return None


db = FlaskDB(excluded_routes=BARE_ENDPOINTS)
csrf = CSRFProtect()
mail = Mail()
