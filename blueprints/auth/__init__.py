"""Login, the secret-question login step, logout, and the per-request session check."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401  (routes register on import)
