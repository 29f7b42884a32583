"""Extension objects, created unbound and wired to the app in create_app()."""

from flask_mail import Mail
from flask_wtf.csrf import CSRFProtect
from playhouse.flask_utils import FlaskDB

from assets import STATIC_ENDPOINTS

db = FlaskDB(excluded_routes=STATIC_ENDPOINTS)
csrf = CSRFProtect()
mail = Mail()
