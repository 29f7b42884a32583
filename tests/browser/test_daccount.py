"""[dアカウントでログイン] in chromium, JavaScript on and off: sign in at a real OpenID provider's
page (tests/oidc_provider.py), then land on WebビリングTOP (a linked d-account) or link it and
land there (an unlinked one); unlink on 基本情報 and link again. The app is opened as
localhost and the provider is 127.0.0.1: another site, as a real provider is, so the session
cookie (SameSite=Lax) has to come back on the provider's redirect."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ..conftest import PASSWORD
from ..oidc_provider import LINKED, UNLINKED, provider
from .conftest import check_a11y


@pytest.fixture
def op():
    with provider() as op:
        yield op


@pytest.fixture
def app_config(op):
    return op.settings


@pytest.fixture
def site(app, live_server, page) -> str:
    """The app's address as the member opens it, also the provider's way back to it."""
    base = live_server.replace("127.0.0.1", "localhost")
    app.config["EXTERNAL_BASE_URL"] = base
    # The provider's pages ask for a stylesheet on a public CDN: only loopback is reachable.
    page.context.route("**/*", _loopback_only)
    page.axe_context.route("**/*", _loopback_only)
    return base


def _loopback_only(route):
    host = route.request.url.split("/")[2].rsplit(":", 1)[0]
    if host in ("localhost", "127.0.0.1"):
        route.continue_()
    else:
        route.abort()


def d_account_login(page: Page, site: str, sub: str) -> None:
    """From the login page through the provider's page, signed in as `sub`."""
    page.goto(site + "/login")
    check_a11y(page)
    page.get_by_role("link", name="dアカウントでログイン").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    page.get_by_role("button", name=sub, exact=True).click()


def test_a_linked_d_account_lands_on_top(page, site, js):
    d_account_login(page, site, LINKED)
    page.wait_for_url(site + "/")
    expect(page.get_by_text("済日利 太郎 様", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="WebビリングTOP")).to_be_visible()


def test_typing_the_d_account_at_the_provider(page, site, js):
    page.goto(site + "/login?next=/account")
    page.get_by_role("link", name="dアカウントでログイン").click()
    page.get_by_placeholder("sub").fill(LINKED)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(site + "/account")
    expect(page.get_by_role("heading", name="基本情報")).to_be_visible()


def link_as(page: Page, login_id: str) -> None:
    """On the 連携登録 page: the member's login ID and password, then [連携登録する]."""
    expect(page.get_by_role("heading", name="dアカウント連携登録")).to_be_visible()
    check_a11y(page)
    page.get_by_label("ログインID").fill(login_id)
    page.get_by_label("ログインパスワード").fill(PASSWORD)
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_role("heading", name="dアカウント連携登録の確認")).to_be_visible()
    check_a11y(page)
    page.get_by_role("button", name="連携登録する").click()


def test_an_unlinked_d_account_is_linked_and_lands_on_top(page, site, js):
    d_account_login(page, site, UNLINKED)
    link_as(page, "hanako0002")
    page.wait_for_url(site + "/")
    expect(page.get_by_text("dアカウント連携登録が完了しました。")).to_be_visible()
    expect(page.get_by_text("請求 花子 様", exact=True)).to_be_visible()
    check_a11y(page)
    if js:  # evaluate() needs JavaScript
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # phone width
    page.goto(site + "/account")
    card = page.get_by_role("region", name="dアカウント連携登録有無")
    expect(card).to_contain_text("登録済")
    expect(card.get_by_role("button", name="解除")).to_be_visible()


def test_unlink_then_link_again(page, site, js):
    d_account_login(page, site, LINKED)
    page.wait_for_url(site + "/")
    page.goto(site + "/account")
    card = page.get_by_role("region", name="dアカウント連携登録有無")
    card.get_by_role("button", name="解除").click()
    expect(page.get_by_text("dアカウント連携登録を解除しました。")).to_be_visible()
    card = page.get_by_role("region", name="dアカウント連携登録有無")
    expect(card).to_contain_text("未登録")
    # ⑨'s note points to the login page's button, and the button is there.
    expect(card).to_contain_text("「dアカウントでログイン」ボタンより連携登録ができます")
    page.get_by_role("button", name="ログアウト").click()
    d_account_login(page, site, LINKED)
    link_as(page, "taro0001")
    page.wait_for_url(site + "/")
    page.goto(site + "/account")
    card = page.get_by_role("region", name="dアカウント連携登録有無")
    expect(card).to_contain_text("登録済")


def test_cancel_at_the_provider(page, site, js):
    page.goto(site + "/login")
    page.get_by_role("link", name="dアカウントでログイン").click()
    page.get_by_role("button", name="Deny").click()
    expect(
        page.get_by_role("heading", name="dアカウントでのログインを中止しました")
    ).to_be_visible()
    check_a11y(page)
    page.get_by_role("link", name="ログインページへ").click()
    expect(page.get_by_label("ログインID")).to_be_visible()
