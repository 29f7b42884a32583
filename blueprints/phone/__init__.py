"""ご連絡先電話番号変更 (guide section 2): edit → confirm → complete, inside the ④ card."""

from flask import Blueprint

bp = Blueprint("phone", __name__, url_prefix="/account/phone")

from . import views  # noqa: E402,F401
