"""dアカウント連携登録解除 (guide section 7): [解除] → the ⑨ item shows 未登録."""

from flask import Blueprint

bp = Blueprint("daccount", __name__, url_prefix="/account/d-account")

from . import views  # noqa: E402,F401
