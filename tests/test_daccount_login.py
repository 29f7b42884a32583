"""dアカウントでログイン against a real OpenID provider on loopback (tests/oidc_provider.py):
a linked d-account logs in, an unlinked one is linked (連携登録), unlink and relink, and each
failure gets its own page and changes nothing."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from clock import format_jst, utcnow
from models import ChangeHistory, DAccountUsedKey, LoginSession, Member, OutboxMail

from . import oidc_provider
from .conftest import PASSWORD, in_db, log_in, make_app, post, token_in
from .live import Browser, running
from .oidc_provider import (
    LINKED,
    UNLINKED,
    black_hole,
    closed_port,
    path_of,
    provider,
    settings,
    sign_in,
    with_params,
)

CALLBACK = "https://billing.example.jp/login/d-account/callback"


@pytest.fixture
def op():
    with provider() as op:
        yield op


@pytest.fixture
def app_config(op):
    return op.settings


def member(login_id="taro0001") -> Member:
    return in_db(lambda: Member.get(Member.login_id_key == login_id))


def start(client, next_url=None) -> str:
    """Press [dアカウントでログイン]: the provider's authorization URL we are sent to."""
    response = client.get("/login/d-account", query_string={"next": next_url} if next_url else {})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def come_back(client, location: str):
    """The browser arriving back from the provider at `location`."""
    assert location.startswith(CALLBACK), location
    return client.get(path_of(location))


def d_login(client, sub=LINKED):
    return come_back(client, sign_in(start(client), sub))


def nothing_changed(before: dict) -> None:
    assert snapshot() == before


def snapshot() -> dict:
    """What a failed d-account login must leave as it was."""
    return in_db(
        lambda: {
            "sessions": LoginSession.select().count(),
            "history": ChangeHistory.select().count(),
            "mail": OutboxMail.select().count(),
            "members": [
                (m.d_account_linked, m.d_account_issuer, m.d_account_subject, m.last_login_at)
                for m in Member.select().order_by(Member.id)
            ],
        }
    )


def logged_in_as(client) -> str | None:
    page = client.get("/")
    if page.status_code != 200:
        return None
    return page.get_data(as_text=True).split('class="name">')[1].split(" 様")[0]


def same_database(tmp_path, app, **settings):
    """Another app on the same database, with other settings."""
    return make_app(tmp_path, DATABASE_URL=app.config["DATABASE_URL"], **settings)


# The button and the request it makes.


def test_the_login_page_shows_the_button_under_the_form(client):
    page = client.get("/login").get_data(as_text=True)
    assert page.index(">ログイン</button>") < page.index(">dアカウントでログイン</a>")
    assert 'href="/login/d-account"' in page
    # The page that sent a visitor to log in is where they land, this way too.
    page = client.get("/login?next=/account").get_data(as_text=True)
    assert 'href="/login/d-account?next=/account"' in page


def test_without_a_provider_there_is_no_button_and_the_card_still_works(tmp_path, app):
    bare = make_app(tmp_path)  # the same database, no DACCOUNT_* settings
    client = bare.test_client()
    assert "dアカウントでログイン" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/d-account").status_code == 404
    assert client.get("/login/d-account/callback?code=x&state=y").status_code == 404
    log_in(client)
    card = client.get("/account").get_data(as_text=True).split('id="d-account"')[1]
    assert "登録済" in card and ">解除</button>" in card
    done = post(client, "/account/d-account/unlink").headers["Location"]
    card = client.get(done).get_data(as_text=True).split('id="d-account"')[1]
    # ⑨ says 未登録, and does not point to a button that is not there.
    assert "未登録" in card and "dアカウントでログイン" not in card


def test_the_button_asks_for_the_code_flow_with_pkce_state_and_nonce(client, op):
    before = snapshot()
    url = start(client)
    assert url.startswith(op.issuer + "/oauth2/authorize?")  # from the discovery document
    asked = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert asked["response_type"] == "code" and asked["scope"] == "openid"
    assert asked["client_id"] == oidc_provider.CLIENT_ID and asked["redirect_uri"] == CALLBACK
    with client.session_transaction() as session:
        flow = session["daccount_flow"]
    assert asked["state"] == flow["state"] and asked["nonce"] == flow["nonce"]
    assert len(flow["state"]) >= 20 and len(flow["nonce"]) >= 20
    challenge = hashlib.sha256(flow["verifier"].encode()).digest()
    assert asked["code_challenge_method"] == "S256"
    assert asked["code_challenge"] == base64.urlsafe_b64encode(challenge).rstrip(b"=").decode()
    assert flow["verifier"] not in url
    nothing_changed(before)  # a GET: only the browser's cookie holds the attempt
    assert in_db(DAccountUsedKey.select().count) == 0


def test_the_code_is_exchanged_with_the_verifier_of_the_challenge(client, op):
    # oidc-provider-mock does not check PKCE itself: what it was sent is checked here.
    url = start(client)
    asked = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    location = sign_in(url)
    code = parse_qs(urlsplit(location).query)["code"][0]
    assert come_back(client, location).headers["Location"] == "/"
    [exchange] = op.token_requests
    assert exchange["grant_type"] == "authorization_code" and exchange["code"] == code
    assert exchange["redirect_uri"] == CALLBACK
    challenge = hashlib.sha256(exchange["code_verifier"].encode()).digest()
    assert asked["code_challenge"] == base64.urlsafe_b64encode(challenge).rstrip(b"=").decode()


def test_a_secret_with_plus_slash_and_equals_is_form_urlencoded_in_http_basic(client, op):
    # RFC 6749 2.3.1: id and secret are form-urlencoded, then joined for HTTP Basic; sent as
    # they are, a provider that decodes them reads the "+" as a space and refuses us.
    assert "+" in oidc_provider.CLIENT_SECRET and "/" in oidc_provider.CLIENT_SECRET
    assert d_login(client).headers["Location"] == "/"
    [authorization] = op.authorizations
    credentials = base64.b64decode(authorization.removeprefix("Basic ")).decode()
    assert credentials == "webbilling-test:test%2Bclient%2Fsecret%3D%3D"
    assert "client_secret" not in op.token_requests[0]  # once is enough


@pytest.mark.parametrize(
    "offered", [["client_secret_post"], ["client_secret_post", "client_secret_basic"]]
)
def test_a_provider_that_prefers_the_secret_in_the_form_gets_it_there(client, op, offered):
    op.auth_methods = offered  # token_endpoint_auth_methods_supported, the first preferred
    assert d_login(client).headers["Location"] == "/"
    [exchange] = op.token_requests
    assert exchange["client_id"] == oidc_provider.CLIENT_ID
    assert exchange["client_secret"] == oidc_provider.CLIENT_SECRET
    assert op.authorizations == [None]


def test_a_provider_that_refuses_our_secret(tmp_path, app, op):
    wrong = same_database(tmp_path, app, **op.settings | {"DACCOUNT_CLIENT_SECRET": "x+y"})
    client = wrong.test_client()
    before = snapshot()
    response = come_back(client, sign_in(start(client)))
    assert response.status_code == 502
    assert "dアカウントでログインできませんでした" in response.get_data(as_text=True)
    nothing_changed(before)


def test_each_press_is_a_new_attempt(client):
    first = parse_qs(urlsplit(start(client)).query)
    second = parse_qs(urlsplit(start(client)).query)
    for name in ("state", "nonce", "code_challenge"):
        assert first[name] != second[name]


# A linked d-account logs in.


def test_a_linked_d_account_logs_in_exactly_as_a_password_login(client):
    response = d_login(client)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert logged_in_as(client) == "済日利 太郎"
    assert "前回ログイン日時：なし（初回ログイン）" in client.get("/").get_data(as_text=True)
    assert member().last_login_at is not None
    assert in_db(LoginSession.select().count) == 1
    # The next login shows this one as the previous one, whichever way it is made.
    logged_in_at = member().last_login_at
    post(client, "/logout", page="/")
    with time_machine.travel(utcnow() + timedelta(hours=2)):
        assert log_in(client).status_code == 303
        page = client.get("/").get_data(as_text=True)
    assert f"前回ログイン日時：{format_jst(logged_in_at)}" in page


def test_a_d_account_login_starts_a_new_session(client):
    log_in(client, "hanako0002")
    before = client.get_cookie("session").value
    d_login(client)
    assert client.get_cookie("session").value != before
    assert logged_in_as(client) == "済日利 太郎"


def test_it_lands_where_the_member_was_sent_from(client):
    response = come_back(client, sign_in(start(client, "/account")))
    assert response.headers["Location"] == "/account"


def test_the_secret_question_comes_next_when_it_is_on(client):
    in_db(lambda: Member.update(secret_auth_enabled=True).execute())
    response = d_login(client)
    assert response.headers["Location"] == "/login/secret"
    assert logged_in_as(client) is None
    page = client.get("/login/secret").get_data(as_text=True)
    assert "母親の旧姓は？" in page
    token = token_in(page)
    client.post("/login/secret", data={"csrf_token": token, "answer": "やまだ"})
    assert logged_in_as(client) == "済日利 太郎"


def test_a_locked_member_gets_the_login_pages_neutral_answer(client):
    for _ in range(5):
        log_in(client, password="wrong-password")
    before = snapshot()
    response = d_login(client)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "ログインIDまたはログインパスワードが正しくありません。" in page
    nothing_changed(before)
    with time_machine.travel(utcnow() + timedelta(minutes=31)):
        assert d_login(client).headers["Location"] == "/"


def test_a_d_account_of_a_cancelled_member_gets_its_own_page(client):
    in_db(
        lambda: Member.update(cancelled_at=utcnow()).where(Member.login_id == "taro0001").execute()
    )
    before = snapshot()
    response = d_login(client)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert (
        "解約済みのためログインできません" in page
        and "解約済みのため、ログインできません。" in page
    )
    nothing_changed(before)


# An unlinked d-account is linked (連携登録).


def link_form(client, login_id, password):
    token = token_in(client.get("/login/d-account/link").get_data(as_text=True))
    return client.post(
        "/login/d-account/link",
        data={"csrf_token": token, "login_id": login_id, "password": password},
    )


def confirm_link(client):
    page = client.get("/login/d-account/link/confirm").get_data(as_text=True)
    assert ">連携登録する</button>" in page, page
    return client.post("/login/d-account/link/confirm", data={"csrf_token": token_in(page)})


def test_an_unlinked_d_account_is_linked_after_the_login_id_and_password(client, op):
    arrival = d_login(client, UNLINKED)
    assert arrival.status_code == 303 and arrival.headers["Location"] == "/login/d-account/link"
    page = client.get("/login/d-account/link").get_data(as_text=True)
    assert "まだWebビリングに連携登録されていません" in page
    assert '<label for="login_id">ログインID</label>' in page
    assert '<label for="password">ログインパスワード</label>' in page
    assert logged_in_as(client) is None

    proved = link_form(client, "hanako0002", PASSWORD)
    assert proved.headers["Location"] == "/login/d-account/link/confirm"
    assert member("hanako0002").d_account_subject is None  # not before [連携登録する]
    page = client.get("/login/d-account/link/confirm").get_data(as_text=True)
    assert "請求 花子 様のWebビリングに連携登録します" in page
    forged = client.post("/login/d-account/link/confirm")  # no CSRF token
    assert forged.status_code == 400 and member("hanako0002").d_account_subject is None

    done = confirm_link(client)
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert "dアカウント連携登録が完了しました。" in client.get("/").get_data(as_text=True)
    hanako = member("hanako0002")
    assert hanako.d_account_linked
    assert (hanako.d_account_issuer, hanako.d_account_subject) == (op.issuer, UNLINKED)
    card = client.get("/account").get_data(as_text=True).split('id="d-account"')[1]
    assert "登録済" in card.split("</section>")[0] and ">解除</button>" in card
    [change] = in_db(lambda: list(ChangeHistory.select()))
    assert (change.member_id, change.kind, change.detail) == (hanako.id, "dアカウント連携", "登録")
    assert in_db(OutboxMail.select().count) == 0  # she has no contact address

    # From now on this d-account logs her in.
    post(client, "/logout", page="/")
    assert d_login(client, UNLINKED).headers["Location"] == "/"
    assert logged_in_as(client) == "請求 花子"


def test_linking_mails_a_notice_without_a_link_to_the_contact_address(client, op):
    in_db(lambda: Member.update(d_account_linked=False, d_account_subject=None).execute())
    d_login(client, UNLINKED)
    link_form(client, "taro0001", PASSWORD)
    confirm_link(client)
    [mail] = in_db(lambda: list(OutboxMail.select()))
    assert mail.to == "taro@example.com"
    assert mail.subject == "【WebBilling】dアカウント連携登録のお知らせ"
    assert "dアカウントが連携登録されました" in mail.body and "0800-333-0030" in mail.body
    assert "http" not in mail.body and UNLINKED not in mail.body


def test_linking_asks_the_secret_question_when_it_is_on(client):
    in_db(
        lambda: Member.update(
            d_account_linked=False, d_account_subject=None, secret_auth_enabled=True
        ).execute()
    )
    d_login(client, UNLINKED)
    assert link_form(client, "taro0001", PASSWORD).headers["Location"] == "/login/secret"
    token = token_in(client.get("/login/secret").get_data(as_text=True))
    wrong = client.post("/login/secret", data={"csrf_token": token, "answer": "ちがう"})
    assert wrong.status_code == 422 and member().failed_logins == 1
    assert member().d_account_subject is None
    right = client.post("/login/secret", data={"csrf_token": token, "answer": "やまだ"})
    assert right.headers["Location"] == "/login/d-account/link/confirm"
    assert confirm_link(client).headers["Location"] == "/"
    assert member().d_account_subject == UNLINKED


def test_wrong_passwords_while_linking_count_toward_the_lock(client):
    d_login(client, UNLINKED)
    for _ in range(4):
        wrong = link_form(client, "hanako0002", "wrong-password")
        assert wrong.status_code == 422
        assert "ログインIDまたはログインパスワードが正しくありません。" in wrong.get_data(
            as_text=True
        )
    assert member("hanako0002").failed_logins == 4
    assert link_form(client, "nobody99", PASSWORD).status_code == 422
    # The pending link waits for the right password (the same page, as often as needed).
    assert link_form(client, "hanako0002", PASSWORD).status_code == 303
    assert member("hanako0002").failed_logins == 0
    # And a fifth wrong one, on the login page or here, locks the account.
    client2 = client.application.test_client()
    d_login(client2, "someone-else")
    for _ in range(5):
        link_form(client2, "hanako0002", "wrong-password")
    assert member("hanako0002").is_locked(utcnow())
    assert link_form(client2, "hanako0002", PASSWORD).status_code == 422


def test_password_tries_while_linking_share_the_login_pages_rate_limit(tmp_path, app, op):
    limited = same_database(tmp_path, app, LOGIN_RATE_LIMIT="3 per minute", **op.settings)
    client = limited.test_client()
    log_in(client, password="wrong-password")
    d_login(client, UNLINKED)
    assert link_form(client, "hanako0002", "wrong-password").status_code == 422
    assert link_form(client, "hanako0002", "wrong-password").status_code == 422
    assert link_form(client, "hanako0002", PASSWORD).status_code == 429


def test_a_cancelled_member_cannot_link(client):
    in_db(
        lambda: (
            Member.update(cancelled_at=utcnow()).where(Member.login_id == "hanako0002").execute()
        )
    )
    d_login(client, UNLINKED)
    before = snapshot()
    refused = link_form(client, "hanako0002", PASSWORD)
    assert refused.status_code == 422
    assert "解約済みのため、ログインできません。" in refused.get_data(as_text=True)
    nothing_changed(before)


def test_a_member_with_another_d_account_keeps_it(client):
    d_login(client, UNLINKED)
    link_form(client, "taro0001", PASSWORD)  # taro0001 holds demo-taro already
    before = snapshot()
    refused = confirm_link(client)
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "すでに別のdアカウントが連携登録されています" in page and "［解除］" in page
    nothing_changed(before)
    assert member().d_account_subject == LINKED


def test_a_first_release_link_gets_its_d_account_when_linked_again(client, op):
    in_db(lambda: Member.update(d_account_issuer=None, d_account_subject=None).execute())
    assert member().d_account_linked  # linked, the d-account unknown
    d_login(client, UNLINKED)
    link_form(client, "taro0001", PASSWORD)
    assert confirm_link(client).headers["Location"] == "/"
    assert (member().d_account_issuer, member().d_account_subject) == (op.issuer, UNLINKED)


def test_a_d_account_linked_meanwhile_to_another_member_is_refused(app, client):
    d_login(client, UNLINKED)
    link_form(client, "hanako0002", PASSWORD)
    # Meanwhile, in another browser, the same d-account is linked to 済日利 太郎.
    other = app.test_client()
    in_db(
        lambda: Member.update(d_account_subject=None).where(Member.login_id == "taro0001").execute()
    )
    d_login(other, UNLINKED)
    link_form(other, "taro0001", PASSWORD)
    assert confirm_link(other).headers["Location"] == "/"
    before = snapshot()
    refused = confirm_link(client)
    assert refused.status_code == 409
    assert "すでに別のWebビリングに連携登録されています" in refused.get_data(as_text=True)
    nothing_changed(before)
    assert member("hanako0002").d_account_subject is None


def test_a_pending_link_is_used_once(client):
    d_login(client, UNLINKED)
    link_form(client, "hanako0002", PASSWORD)
    page = client.get("/login/d-account/link/confirm").get_data(as_text=True)
    saved = client.get_cookie("session").value  # the pending link is in it
    assert confirm_link(client).status_code == 303
    # The same pending link again (a saved cookie), after [解除]: refused.
    post(client, "/account/d-account/unlink")
    before = snapshot()
    client.set_cookie("session", saved)
    again = client.post("/login/d-account/link/confirm", data={"csrf_token": token_in(page)})
    assert again.status_code == 410
    assert "連携登録の手続きを続けられません" in again.get_data(as_text=True)
    nothing_changed(before)


def test_a_pending_link_lasts_10_minutes(client):
    d_login(client, UNLINKED)
    with time_machine.travel(utcnow() + timedelta(minutes=10, seconds=30)):
        assert client.get("/login/d-account/link").status_code == 410
    assert link_form(client, "hanako0002", PASSWORD).status_code == 303
    with time_machine.travel(utcnow() + timedelta(minutes=11)):
        before = snapshot()
        token = token_in(client.get("/").get_data(as_text=True))
        late = client.post("/login/d-account/link/confirm", data={"csrf_token": token})
        assert late.status_code == 410
        nothing_changed(before)


def test_only_the_member_who_gave_the_password_can_confirm(client):
    d_login(client, UNLINKED)
    link_form(client, "hanako0002", PASSWORD)
    post(client, "/logout", page="/")
    log_in(client, "taro0001")  # someone else logs in in the same browser
    before = snapshot()
    refused = client.get("/login/d-account/link/confirm")
    assert refused.status_code == 410
    token = token_in(client.get("/").get_data(as_text=True))
    assert (
        client.post("/login/d-account/link/confirm", data={"csrf_token": token}).status_code == 410
    )
    nothing_changed(before)


def test_a_forged_pending_link_is_refused(tmp_path, app, client, op):
    forger = same_database(tmp_path, app, SECRET_KEY="not-our-key", **op.settings).test_client()
    with forger.session_transaction() as session:
        session["daccount_link"] = {
            "iss": op.issuer,
            "sub": LINKED,
            "next": None,
            "member": None,
            "at": utcnow().isoformat(),
            "once": "x",
        }
    client.set_cookie("session", forger.get_cookie("session").value)
    assert client.get("/login/d-account/link").status_code == 410


# What ends a half-finished link, and the session a login replaces (issue 25).


def test_every_login_path_ends_the_session_it_replaces(app, client):
    log_in(client, "hanako0002")
    replaced = [client.get_cookie("session").value]
    d_login(client)  # a d-account login in a browser already logged in
    replaced.append(client.get_cookie("session").value)
    d_login(client)
    replaced.append(client.get_cookie("session").value)
    d_login(client, UNLINKED)
    link_form(client, "hanako0002", PASSWORD)  # the 連携登録 step logs in too
    assert logged_in_as(client) == "請求 花子"
    assert in_db(LoginSession.select().count) == 1
    for cookie in replaced:
        copy = app.test_client()
        copy.set_cookie("session", cookie)
        assert copy.get("/account").status_code == 303


def test_a_login_that_asks_the_secret_question_ends_the_session_it_replaces(app, client):
    in_db(lambda: Member.update(secret_auth_enabled=True).execute())
    log_in(client, "hanako0002")  # she has no secret question: logged in at once
    replaced = client.get_cookie("session").value
    assert d_login(client).headers["Location"] == "/login/secret"
    assert in_db(LoginSession.select().count) == 0
    copy = app.test_client()
    copy.set_cookie("session", replaced)
    assert copy.get("/account").status_code == 303


def test_logout_drops_a_half_finished_link(client):
    log_in(client, "hanako0002")
    d_login(client, UNLINKED)  # someone else's d-account, on her phone, left at 連携登録
    post(client, "/logout", page="/")
    before = snapshot()
    assert client.get("/login/d-account/link").status_code == 410
    data = {"login_id": "hanako0002", "password": PASSWORD}
    assert post(client, "/login/d-account/link", data, page="/login").status_code == 410
    nothing_changed(before)


def test_a_credential_change_voids_a_link_waiting_for_its_confirm(app, client):
    in_db(
        lambda: (
            Member.update(d_account_linked=False, d_account_issuer=None, d_account_subject=None)
            .where(Member.login_id == "taro0001")
            .execute()
        )
    )
    # Someone who knows taro's password links their own d-account on a shared PC, and leaves
    # at [連携登録する].
    d_login(client, UNLINKED)
    assert link_form(client, "taro0001", PASSWORD).headers["Location"].endswith("/confirm")
    # taro changes his password elsewhere; later he logs in on that PC and comes back to the
    # confirm page (Back, history).
    elsewhere = app.test_client()
    log_in(elsewhere)
    new = {"new_password": "Shin-pass42", "new_password_confirm": "Shin-pass42"}
    data = {"target": "password", "current_password": PASSWORD, **new}
    assert post(elsewhere, "/account/credentials", data).status_code == 303
    assert log_in(client, "taro0001", "Shin-pass42").status_code == 303
    before = snapshot()
    assert client.get("/login/d-account/link/confirm").status_code == 410
    token = token_in(client.get("/").get_data(as_text=True))
    refused = client.post("/login/d-account/link/confirm", data={"csrf_token": token})
    assert refused.status_code == 410
    nothing_changed(before)
    assert member().d_account_subject is None


def test_a_password_hash_upgraded_while_linking_keeps_the_link(client):
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    in_db(
        lambda: (
            Member.update(password_hash=weak, d_account_linked=False, d_account_subject=None)
            .where(Member.login_id == "taro0001")
            .execute()
        )
    )
    d_login(client, UNLINKED)
    link_form(client, "taro0001", PASSWORD)  # the hash is upgraded here
    assert member().password_hash != weak
    assert confirm_link(client).headers["Location"] == "/"
    assert member().d_account_subject == UNLINKED


def test_a_half_finished_link_does_not_outlive_another_members_login(tmp_path, op):
    """On the real server, through a browser's cookie jar: person A leaves at 連携登録 with a
    d-account no member holds; hanako logs in and out on that browser within the 10 minutes;
    nobody's ID and password link A's d-account after that."""
    database = tmp_path / "live.sqlite3"
    env = {f"FLASK_{name}": str(value) for name, value in op.settings.items()}
    with running(database_url=f"sqlite:///{database}", **env) as url:
        browser = Browser(url)
        _, _, headers = browser.get("/login/d-account")
        _, _, headers = browser.get(path_of(sign_in(headers["Location"], UNLINKED)))
        assert headers["Location"] == "/login/d-account/link"
        assert browser.get("/login/d-account/link")[0] == 200
        assert browser.log_in("hanako0002") == 303
        assert browser.post("/logout")[0] == 303
        assert browser.get("/login/d-account/link")[0] == 410
        browser.get("/login")
        data = {"login_id": "hanako0002", "password": PASSWORD}
        assert browser.post("/login/d-account/link", data)[0] == 410
    with sqlite3.connect(database) as db:
        linked = db.execute("SELECT login_id, d_account_subject FROM member ORDER BY id").fetchall()
    assert linked == [("taro0001", LINKED), ("hanako0002", None)]


# Unlink, then link again.


def test_unlink_then_relink_to_the_same_or_another_member(client, op):
    d_login(client)
    assert post(client, "/account/d-account/unlink").status_code == 303
    assert (member().d_account_linked, member().d_account_subject) == (False, None)
    post(client, "/logout", page="/")
    # The same d-account is now no one's: it links again, to 請求 花子 this time.
    assert d_login(client).headers["Location"] == "/login/d-account/link"
    link_form(client, "hanako0002", PASSWORD)
    confirm_link(client)
    assert member("hanako0002").d_account_subject == LINKED
    post(client, "/account/d-account/unlink", page="/account")
    post(client, "/logout", page="/")
    # And back to 済日利 太郎.
    d_login(client)
    link_form(client, "taro0001", PASSWORD)
    confirm_link(client)
    assert member().d_account_subject == LINKED and logged_in_as(client) == "済日利 太郎"
    kinds = in_db(lambda: [c.detail for c in ChangeHistory.select().order_by(ChangeHistory.id)])
    assert kinds == ["登録解除", "登録", "登録解除", "登録"]


# Every failure: its own page, nothing changed.


@pytest.mark.parametrize(
    ("answer", "status", "title"),
    [
        ({"error": "access_denied"}, 200, "dアカウントでのログインを中止しました"),
        ({"error": "server_error"}, 502, "dアカウントでログインできませんでした"),
        (
            {"error": "<script>alert(1)</script>", "error_description": "<b>x</b>"},
            502,
            "dアカウントでログインできませんでした",
        ),
    ],
)
def test_an_error_from_the_provider(client, answer, status, title):
    start(client)
    before = snapshot()
    response = client.get("/login/d-account/callback", query_string=answer)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert title in page and "<script>alert" not in page and "<b>x" not in page
    assert "&lt;script" not in page  # not even escaped: nothing from the provider is shown
    nothing_changed(before)


def test_cancel_at_the_provider(client):
    before = snapshot()
    location = sign_in(start(client), action="deny")
    response = come_back(client, location)
    assert response.status_code == 200
    assert "dアカウントの画面でキャンセルされたため" in response.get_data(as_text=True)
    nothing_changed(before)


def test_a_state_that_does_not_match(client):
    location = sign_in(start(client))
    before = snapshot()
    forged = client.get(path_of(with_params(location, state="forged-state-value")))
    assert forged.status_code == 400
    assert "ログインの手続きを確認できません" in forged.get_data(as_text=True)
    nothing_changed(before)


def test_a_state_from_another_browser(app, client):
    location = sign_in(start(client))
    before = snapshot()
    response = come_back(app.test_client(), location)
    assert response.status_code == 400
    assert "ログインの手続きを確認できません" in response.get_data(as_text=True)
    nothing_changed(before)


def test_a_state_used_again(app, client):
    url = start(client)
    with client.session_transaction() as session:
        saved = dict(session)  # the cookie as it was before coming back
    location = sign_in(url)
    assert come_back(client, location).headers["Location"] == "/"
    post(client, "/logout", page="/")
    before = snapshot()
    again = come_back(client, location)  # the same browser, back and reload
    assert again.status_code == 400
    assert "完了済みのログイン手続きです" in again.get_data(as_text=True)
    replay = app.test_client()  # the old cookie replayed elsewhere
    with replay.session_transaction() as session:
        session.update(saved)
    assert come_back(replay, location).status_code == 400
    nothing_changed(before)


def test_a_state_older_than_10_minutes(client):
    location = sign_in(start(client))
    with time_machine.travel(utcnow() + timedelta(minutes=10, seconds=30)):
        before = snapshot()
        response = come_back(client, location)
        assert response.status_code == 400
        assert "10分以上経過したため" in response.get_data(as_text=True)
        nothing_changed(before)


def test_a_wrong_nonce(client):
    # The provider signs a real token for a nonce other than the one we asked for.
    location = sign_in(with_params(start(client), nonce="someone-elses-nonce"))
    before = snapshot()
    response = come_back(client, location)
    assert response.status_code == 400
    assert "このログインの認証結果ではありません" in response.get_data(as_text=True)
    nothing_changed(before)


def test_a_tampered_id_token(client, op):
    location = sign_in(start(client))
    op.tamper_id_token = True
    before = snapshot()
    response = come_back(client, location)
    assert response.status_code == 400
    assert "認証結果を確認できません" in response.get_data(as_text=True)
    nothing_changed(before)


@pytest.mark.parametrize(
    "claims",
    [
        # For another client, even though it names us as the party it was issued to (Authlib
        # alone accepts this one: it checks the audience only when told to).
        {"aud": "someone-else", "azp": oidc_provider.CLIENT_ID},
        {"iss": "https://id.example.jp"},  # from another issuer
        {"sub": "x" * 256},  # not a subject OpenID Connect allows
    ],
)
def test_a_token_signed_for_someone_else(client, op, claims):
    location = sign_in(start(client))
    op.claims = claims
    before = snapshot()
    response = come_back(client, location)
    assert response.status_code == 400
    assert "認証結果を確認できません" in response.get_data(as_text=True)
    nothing_changed(before)


def test_a_token_signed_with_the_key_it_publishes_is_believed(client, op):
    op.claims = {"auth_time": int(time.time())}  # the wire's own key, published as the JWKS
    assert d_login(client).headers["Location"] == "/"


def test_an_expired_id_token(tmp_path, app):
    # A provider whose tokens expired 5 minutes ago (beyond the 60 s allowed for clocks).
    with provider(token_max_age=timedelta(minutes=-5)) as stale:
        client = same_database(tmp_path, app, **stale.settings).test_client()
        before = snapshot()
        response = come_back(client, sign_in(start(client)))
    assert response.status_code == 400
    assert "有効期限が切れていた" in response.get_data(as_text=True)
    nothing_changed(before)


def test_a_provider_whose_discovery_names_another_issuer(tmp_path, app, op):
    # Configured with a trailing slash, the provider names itself without: not the same.
    odd = same_database(tmp_path, app, **settings(op.issuer + "/"))
    response = odd.test_client().get("/login/d-account")
    assert response.status_code == 502
    assert "dアカウントでログインできませんでした" in response.get_data(as_text=True)


def test_a_provider_that_is_down(tmp_path, app):
    client = same_database(tmp_path, app, **settings(closed_port())).test_client()
    started = time.monotonic()
    response = client.get("/login/d-account")
    assert response.status_code == 503 and time.monotonic() - started < 2
    assert "dアカウントに接続できません" in response.get_data(as_text=True)


def test_a_provider_that_does_not_answer(tmp_path, app):
    with black_hole() as silent:
        client = same_database(tmp_path, app, **settings(silent)).test_client()
        started = time.monotonic()
        response = client.get("/login/d-account")
        waited = time.monotonic() - started
    assert response.status_code == 504 and 0.9 < waited < 3  # DACCOUNT_TIMEOUT_SECONDS = 1
    assert "数秒以内に応答がなかった" in response.get_data(as_text=True)


def test_a_token_endpoint_that_is_slow(client, op):
    location = sign_in(start(client))
    op.sleep["/oauth2/token"] = 3
    before = snapshot()
    started = time.monotonic()
    response = come_back(client, location)
    assert response.status_code == 504 and time.monotonic() - started < 2.5
    nothing_changed(before)


def test_a_provider_gone_before_the_browser_comes_back(tmp_path, app):
    with provider() as gone:
        client = same_database(tmp_path, app, **gone.settings).test_client()
        location = sign_in(start(client))
    before = snapshot()
    response = come_back(client, location)
    assert response.status_code == 503
    nothing_changed(before)


def test_a_provider_restarted_with_a_new_key_is_still_believed(tmp_path, app, op):
    # Its tokens carry no key id: the new key is fetched when the old one does not verify.
    client = app.test_client()
    assert d_login(client).headers["Location"] == "/"
    port = int(op.issuer.rsplit(":", 1)[1])
    op.server.shutdown()
    op.server.server_close()
    with provider(port=port):
        client.delete_cookie("session")
        assert d_login(client).headers["Location"] == "/"


# Settings.


def test_client_settings_stay_strings(monkeypatch, tmp_path):
    monkeypatch.setenv("FLASK_DACCOUNT_ISSUER", "http://127.0.0.1:9")
    monkeypatch.setenv("FLASK_DACCOUNT_CLIENT_ID", "12345")
    monkeypatch.setenv("FLASK_DACCOUNT_CLIENT_SECRET", "0123456789")
    app = make_app(tmp_path)
    assert app.config["DACCOUNT_CLIENT_ID"] == "12345"
    assert app.config["DACCOUNT_CLIENT_SECRET"] == "0123456789"
    assert app.extensions["daccount"].client_id == "12345"


def test_the_three_settings_go_together(tmp_path):
    with pytest.raises(RuntimeError, match="go together"):
        make_app(tmp_path, DACCOUNT_ISSUER="https://id.example.jp", DACCOUNT_CLIENT_ID="x")


def test_in_development_the_browser_comes_back_to_the_host_it_used(tmp_path, op, app):
    dev = same_database(tmp_path, app, DEBUG=True, **op.settings)
    for host in ("127.0.0.1:5000", "localhost:5000"):
        url = dev.test_client().get("/login/d-account", base_url=f"http://{host}").location
        redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        assert redirect_uri == f"http://{host}/login/d-account/callback"
