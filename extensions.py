"""Extension objects, created unbound and wired to the app in create_app()."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_wtf.csrf import CSRFProtect
from playhouse.flask_utils import FlaskDB

from assets import STATIC_ENDPOINTS

db = FlaskDB(excluded_routes=STATIC_ENDPOINTS)
csrf = CSRFProtect()
mail = Mail()
# Per-client limits (429 with a Japanese page); in process by default, Redis for several servers.
limiter = Limiter(key_func=get_remote_address)
