"""Webビリング対象回線の変更 (guide section 5): stage lines to add, tick lines to cancel,
confirm, register — a screen of its own, reached from the ⑦ item of 基本情報."""

from flask import Blueprint

bp = Blueprint("lines", __name__, url_prefix="/account/lines")

from . import views  # noqa: E402,F401
