"""秘密の質問による認証設定 (guide section 6): choose → confirm → complete, inside the ⑧ card."""

from flask import Blueprint

bp = Blueprint("secret_auth", __name__, url_prefix="/account/secret-auth")

from . import views  # noqa: E402,F401
