"""Webビリング一括解約 (guide section 5, also ⑪ of 基本情報): [解約する] → 解約理由 → [解約] →
confirm → [解約する] → 一括解約完了. The membership is kept, marked cancelled, with its reason."""

from flask import Blueprint

bp = Blueprint("cancel", __name__, url_prefix="/account/cancel")

from . import views  # noqa: E402,F401
