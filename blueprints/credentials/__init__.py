"""ログインID／ログインパスワード変更 (guide section 8): choose → fields → complete, inside ⑩."""

from flask import Blueprint

bp = Blueprint("credentials", __name__, url_prefix="/account/credentials")

from . import views  # noqa: E402,F401
