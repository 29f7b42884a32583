"""WebビリングTOP and 基本情報 (/account), the page every change flow starts from."""

from flask import Blueprint

bp = Blueprint("account", __name__)

from . import views  # noqa: E402,F401
