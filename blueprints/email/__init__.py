"""連絡先メールアドレス変更 (guide section 3): the ⑥ card's flow under /account/email, and the
public page the mailed link opens, /email/confirm/<token> (no login: it may be opened on
another device)."""

from flask import Blueprint

bp = Blueprint("email", __name__)

from . import link, views  # noqa: E402,F401
