"""秘密の質問／回答の変更 (guide section 4): reached from ⑥ [変更] → [変更しない], inside the
⑥ card."""

from flask import Blueprint

bp = Blueprint("secret", __name__, url_prefix="/account/secret")

from . import views  # noqa: E402,F401
