"""Extension objects, created unbound and wired to the app in create_app()."""

from flask_mail import Mail
from flask_wtf.csrf import CSRFProtect
from playhouse.flask_utils import FlaskDB

from assets import STATIC_ENDPOINTS

# No per-request connection and no login check (auth.sessions.load_login): static files, and
# /healthz, which opens its own connection and must not touch a session.
BARE_ENDPOINTS = STATIC_ENDPOINTS | {"monitoring.healthz"}
db = FlaskDB(excluded_routes=BARE_ENDPOINTS)
csrf = CSRFProtect()
mail = Mail()
