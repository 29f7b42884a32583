"""d-account: ⑨ dアカウント連携登録有無 and its [解除] (guide section 7), and logging in with
the d-account from the login page, which links a d-account no member holds yet (連携登録)."""

from flask import Blueprint

bp = Blueprint("daccount", __name__)

from . import oidc, views  # noqa: E402,F401

bp.record_once(lambda state: oidc.init_app(state.app))
