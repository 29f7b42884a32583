from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from itsdangerous import Signer

import ratelimit
from blueprints.auth.forms import LoginForm
from blueprints.auth.sessions import LINK_KEY, login_required, safe_next
from blueprints.auth.views import FAILED, begin_login, proven_member
from clock import utcnow
from models import Member
from rendering import completed, render

from . import bp, oidc
from .changes import link as link_d_account
from .changes import spend, spent
from .changes import unlink as unlink_d_account
from .rules import Problem, fresh

CARD = "daccount/_card.html"
TITLE = "dアカウント連携登録解除"
# This browser's login attempt (state, nonce, PKCE verifier), in the signed session cookie.
# A d-account the provider vouched for that no member holds yet waits there too (LINK_KEY).
FLOW_KEY = "daccount_flow"


def card_context(member: Member) -> dict:
    """What the ⑨ card shows, on 基本情報 and in each of its steps."""
    return {"member": member, "d_account_login": oidc.configured()}


def _card(step: str, status: int = 200):
    return render(CARD, title=TITLE, step=step, status=status, **card_context(g.member))


@bp.get("/account/d-account/card")
@login_required
def card():
    return _card("view")


@bp.post("/account/d-account/unlink")
@login_required
def unlink():
    """[解除]: one step, as in the guide."""
    if not unlink_d_account(g.member):
        return _card("not_linked", 409)
    return completed("daccount.done")


@bp.get("/account/d-account/done")
@login_required
def done():
    return _card("done")


@bp.get("/login/d-account")
def start():
    """[dアカウントでログイン]: off to the provider's page. A GET, so it writes nothing but this
    browser's signed session cookie (the state, nonce and PKCE verifier, and when)."""
    if not oidc.configured():
        abort(404)
    redirect_uri = _redirect_uri()
    try:
        authorization = oidc.authorization(redirect_uri)
    except oidc.Refused as refused:
        return _problem(refused.problem)
    session[FLOW_KEY] = {
        "state": authorization["state"],
        "nonce": authorization["nonce"],
        "verifier": authorization["code_verifier"],
        "redirect_uri": redirect_uri,
        "at": utcnow().isoformat(),
        "next": safe_next(request.args.get("next", "")),
    }
    return redirect(authorization["url"], 303)


@bp.get("/login/d-account/callback")
def callback():
    """The provider sends the browser back here, with a GET as OpenID Connect has it: the
    one GET that writes (the spent state, then the login or the pending link)."""
    if not oidc.configured():
        abort(404)
    flow = session.pop(FLOW_KEY, None)  # whatever the answer, this attempt is over
    answer = request.args
    if "error" in answer:
        # Before the state: such an answer changes nothing here, and oidc-provider-mock
        # sends no state with access_denied.
        denied = answer["error"] == "access_denied"
        return _problem(Problem.denied if denied else Problem.provider_error)
    state = answer.get("state", "")
    if state and spent("state:" + state):
        return _problem(Problem.state_used)
    # As bytes: compare_digest refuses text that is not ASCII, which a forged state may be.
    if flow is None or not state or not hmac.compare_digest(state.encode(), flow["state"].encode()):
        return _problem(Problem.state_mismatch)
    if not fresh(flow["at"], utcnow()):
        return _problem(Problem.state_expired)
    if not spend("state:" + state):
        return _problem(Problem.state_used)
    try:
        issuer, subject = oidc.identity(
            answer.get("code", ""), flow["redirect_uri"], flow["verifier"], flow["nonce"]
        )
    except oidc.Refused as refused:
        return _problem(refused.problem)
    member = Member.get_or_none(
        (Member.d_account_issuer == issuer) & (Member.d_account_subject == subject)
    )
    if member is None:
        pending = {"iss": issuer, "sub": subject, "next": flow["next"], "member": None}
        pending |= {"at": utcnow().isoformat(), "once": secrets.token_urlsafe(16)}
        session[LINK_KEY] = pending
        return redirect(url_for("daccount.link"), 303)
    if member.is_cancelled:
        return _problem(Problem.cancelled)
    if member.is_locked(utcnow()):
        flash(FAILED)  # what the login page answers for a locked account
        return redirect(url_for("auth.login"), 303)
    return begin_login(member, flow["next"])


@bp.route("/login/d-account/link", methods=["GET", "POST"])
@ratelimit.limit("LOGIN_RATE_LIMIT", "login", methods=("POST",))
def link():
    """連携登録, first step: the member proves who they are with their login ID and password
    (the login page's checks and lock count), then the secret question when they have it on
    (begin_login), and lands on the confirm step logged in."""
    pending = _pending()
    if pending is None:
        return _problem(Problem.link_expired)
    form = LoginForm()
    if form.validate_on_submit() and (member := proven_member(form)):
        response = begin_login(member, url_for("daccount.confirm"))
        # Only the member who proved it here may link it, with the credentials proved here.
        session[LINK_KEY] = pending | {"member": member.id, "proof": _proof(member)}
        return response
    status = 422 if form.errors or form.form_errors else 200
    return render_template("daccount/link.html", form=form), status


@bp.route("/login/d-account/link/confirm", methods=["GET", "POST"])
@login_required
def confirm():
    """連携登録, last step: [連携登録する] links the d-account, then WebビリングTOP."""
    pending = _pending()
    if (
        pending is None
        or pending["member"] != g.member.id
        or not hmac.compare_digest(pending["proof"], _proof(g.member))
    ):
        return _problem(Problem.link_expired)
    if request.method == "GET":
        return render_template("daccount/confirm.html")
    problem = link_d_account(g.member, pending["iss"], pending["sub"], "link:" + pending["once"])
    if problem is not None:
        return _problem(problem)
    flash(
        "dアカウント連携登録が完了しました。次回から「dアカウントでログイン」でログインできます。"
    )
    session.pop(LINK_KEY)
    return redirect(safe_next(pending["next"] or "") or url_for("account.top"), 303)


def _problem(problem: Problem):
    return render_template("daccount/problem.html", problem=problem), problem.status


def _redirect_uri() -> str:
    """Where the provider sends the browser back: under EXTERNAL_BASE_URL, the address
    registered with the provider. In development the request's own host, as the mail links
    there: the browser must come back to the host whose cookie holds the attempt."""
    path = url_for("daccount.callback")
    if current_app.debug:
        return request.host_url.rstrip("/") + path
    return current_app.config["EXTERNAL_BASE_URL"].rstrip("/") + path


def _pending() -> dict | None:
    """This browser's d-account waiting to be linked, if it is fresh and not yet used."""
    pending = session.get(LINK_KEY)
    if pending is None or not fresh(pending["at"], utcnow()) or spent("link:" + pending["once"]):
        return None
    return pending


def _proof(member: Member) -> str:
    """Binds a pending link to the login ID and password proved at 連携登録, so that changing
    either (by any way) voids it on the server. Keyed: the session is signed, not encrypted."""
    signer = Signer(
        current_app.config["SECRET_KEY"], salt="daccount-link", digest_method=hashlib.sha256
    )
    return signer.get_signature(f"{member.login_id_key}\0{member.password_hash}").decode()
