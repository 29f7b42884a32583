"""Cross-site POSTs are refused by their Origin and Sec-Fetch-Site headers as well as by the
CSRF token (extensions.CSRFProtect): a POST carrying a good token from another origin gets
the same 「画面の有効期限切れ」 page as a bad token, and changes nothing."""

from __future__ import annotations

import pytest

from models import Member

from .conftest import HX, in_db, log_in, make_app, post
from .test_once import STEPS, final_form

STALE = "画面の有効期限が切れたか"
SITE = "https://billing.example.jp"  # EXTERNAL_BASE_URL of the test app


def phone_of() -> str:
    return in_db(lambda: Member.get(Member.login_id_key == "taro0001").daytime_phone)


def change_phone(client, headers: dict):
    return post(client, "/account/phone", {"new_phone": "09012345678"}, headers)


def assert_refused(response, htmx=False) -> None:
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert STALE in html
    assert ("<html" in html) is not htmx


FOREIGN = [
    "https://evil.example",  # another host
    "http://billing.example.jp",  # another scheme
    "https://billing.example.jp:8443",  # another port
    "https://billing.example.jp.evil.example",
    "null",  # a sandboxed frame, a data: URL, a redirect across origins
]


@pytest.mark.parametrize("origin", FOREIGN)
def test_a_post_from_another_origin_is_refused_and_changes_nothing(member_client, origin):
    assert_refused(change_phone(member_client, {"Origin": origin}))
    assert phone_of() == "0312345678"
    assert member_client.get("/account").status_code == 200  # still logged in


def test_a_login_from_another_origin_is_refused(client):
    response = post(client, "/login", {"login_id": "x"}, {"Origin": "https://evil.ex"}, "/login")
    assert_refused(response)


@pytest.mark.parametrize("origin", [None, SITE])
def test_sec_fetch_site_cross_site_is_refused(member_client, origin):
    headers = {"Sec-Fetch-Site": "cross-site"} | ({"Origin": origin} if origin else {})
    assert_refused(change_phone(member_client, headers))
    assert phone_of() == "0312345678"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # an old browser, a script: the token alone protects
        {"Origin": SITE},
        {"Origin": SITE + ":443", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "HTTPS://Billing.Example.JP", "Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "none"},
    ],
)
def test_our_own_origin_or_none_passes(member_client, headers):
    response = change_phone(member_client, headers)
    assert response.status_code == 303 and response.headers["Location"] == "/account/phone/done"
    assert phone_of() == "09012345678"


def test_an_htmx_post_from_another_origin_gets_the_fragment(member_client):
    response = change_phone(member_client, {**HX, "Origin": "https://evil.example"})
    assert_refused(response, htmx=True)
    assert phone_of() == "0312345678"


@pytest.fixture
def dev(tmp_path, app):
    """Development mode (FLASK_DEBUG=1) on the seeded database: no fixed public address."""
    dev = make_app(tmp_path, DEBUG=True)
    client = dev.test_client()
    log_in(client)
    return client


@pytest.mark.parametrize("origin", ["http://localhost", "http://localhost:80"])
def test_in_development_the_requests_own_origin_passes(dev, origin):
    assert change_phone(dev, {"Origin": origin}).status_code == 303
    assert phone_of() == "09012345678"


@pytest.mark.parametrize("origin", ["http://localhost:5000", SITE, "null"])
def test_in_development_another_origin_is_refused(dev, origin):
    assert_refused(change_phone(dev, {"Origin": origin}))
    assert phone_of() == "0312345678"


@pytest.mark.parametrize("name", ["phone", "cancel"])
def test_a_refused_repeat_is_not_answered_as_done_and_keeps_the_session(member_client, name):
    """A repeat of a final POST that succeeded is normally told 完了 (once.py), also from the
    stale page (一括解約 replaced the session); from another origin it is only refused."""
    step = STEPS[name]
    form = final_form(member_client, step)
    assert member_client.post(step.final_url, data=form).status_code == 303
    foreign = {"Origin": "https://evil.example"}
    response = member_client.post(step.final_url, data=form, headers=foreign)
    assert_refused(response)
    assert "Set-Cookie" not in response.headers
    assert step.effects() == [1] * len(step.effects())
