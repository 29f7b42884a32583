"""A member on a flaky network taps twice and uses Back: a double tap on a final button with
JavaScript off changes once, Back from every 完了 shows our page (never the browser's
ERR_CACHE_MISS), and with JavaScript on Back from the line screen's confirm step returns to
the staged list; on a shared phone, the next person's Back shows nothing of the last member's
session, logged out or ended. Chromium runs with its back/forward cache on, as on a phone."""

import contextlib
import re
import time
from datetime import timedelta

import pytest
import time_machine
from flask import request
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from blueprints.cancel.forms import REASONS
from clock import utcnow
from models import ChangeHistory, LoginSession, OutboxMail

from ..conftest import PASSWORD, in_db
from .chromium import CHROMIUM
from .conftest import log_in

NEW_ADDRESS = "jiro@example.net"


@pytest.fixture(scope="module")
def browser(playwright):
    """Chromium as a phone has it: Playwright turns the back/forward cache off by default."""
    browser = playwright.chromium.launch(
        **CHROMIUM, ignore_default_args=["--disable-back-forward-cache"]
    )
    yield browser
    browser.close()


def history(kind: str) -> int:
    return in_db(lambda: ChangeHistory.select().where(ChangeHistory.kind == kind).count())


def to_phone_confirm(page: Page):
    page.goto("/account/phone")
    page.get_by_label("新しい日中のご連絡先電話番号").fill("090-1234-5678")
    page.locator("#phone").get_by_role("button", name="変更").click()
    return page.get_by_role("button", name="変更する")


def to_email_confirm(page: Page):
    page.goto("/account/email/edit")
    page.get_by_label("新しい連絡先メールアドレス", exact=True).fill(NEW_ADDRESS)
    page.get_by_label("新しい連絡先メールアドレス（確認用）").fill(NEW_ADDRESS)
    page.get_by_label("秘密の質問", exact=True).select_option("好きな食べ物は？")
    page.get_by_label("秘密の質問の回答").fill("カレー")
    page.get_by_role("button", name="登録", exact=True).click()
    return page.get_by_role("button", name="登録する")


def to_secret_confirm(page: Page):
    page.goto("/account/secret")
    page.get_by_label("秘密の質問", exact=True).select_option("好きな食べ物は？")
    page.get_by_label("秘密の質問の回答").fill("カレー")
    page.get_by_role("button", name="登録", exact=True).click()
    return page.get_by_role("button", name="登録する")


def to_secret_auth_confirm(page: Page):
    page.goto("/account/secret-auth")
    page.get_by_label("設定する", exact=True).check()
    page.get_by_role("button", name="次へ").click()
    return page.get_by_role("button", name="登録する")


def to_lines_confirm(page: Page):
    page.goto("/account/lines")
    page.get_by_label("ご契約会社").select_option(label="NTT東日本")
    page.get_by_label("お客様電話番号").fill("03-1234-5679")
    page.get_by_role("button", name="追加").click()
    expect(page.get_by_role("list", name="追加する回線")).to_contain_text("03-1234-5679")
    page.get_by_role("button", name="登録", exact=True).click()
    return page.get_by_role("button", name="登録する")


def to_credentials_form(page: Page):
    page.goto("/account/credentials")
    page.get_by_label("ログインパスワード", exact=True).check()
    page.get_by_role("button", name="次へ").click()
    page.get_by_label("現在のログインパスワード", exact=True).fill(PASSWORD)
    page.get_by_label("新しいログインパスワード", exact=True).fill("Shin-pass42")
    page.get_by_label("新しいログインパスワード（確認用）", exact=True).fill("Shin-pass42")
    return page.get_by_role("button", name="更新")


def to_cancel_confirm(page: Page):
    page.goto("/account/cancel/reason")
    page.get_by_label("解約理由").select_option(REASONS[0])
    page.get_by_role("button", name="解約", exact=True).click()
    return page.get_by_role("button", name="解約する")


# step: (to its final button, its 完了, what the page Back returns to says)
FLOWS = {
    "phone": (to_phone_confirm, "連絡先電話番号変更完了", "よろしければ［変更する］"),
    "email": (
        to_email_confirm,
        "連絡先メールアドレス登録/変更受付完了",
        "よろしければ［登録する］",
    ),
    "secret": (to_secret_confirm, "秘密の質問と回答の登録／変更完了", "よろしければ［登録する］"),
    "secret_auth": (
        to_secret_auth_confirm,
        "秘密の質問による認証設定完了",
        "よろしければ［登録する］",
    ),
    "lines": (
        to_lines_confirm,
        "Webビリング対象回線情報の変更が完了しました。",
        "よろしければ［登録する］",
    ),
    "credentials": (
        to_credentials_form,
        "ログインパスワード変更完了",
        "変更する項目：ログインパスワード",
    ),
    "cancel": (to_cancel_confirm, "Webビリング一括解約完了", "よろしければ［解約する］"),
}


@pytest.mark.parametrize("js", [False], ids=["nojs"])
@pytest.mark.parametrize("name", ["phone", "email"])
def test_a_double_tap_without_javascript_changes_once(app, page: Page, name):
    final_url = {"phone": "/account/phone", "email": "/account/email"}[name]

    @app.before_request
    def slow_network():  # the first tap's answer is still on its way at the second tap
        if request.method == "POST" and request.path == final_url:
            time.sleep(1)

    log_in(page)
    go, done, _ = FLOWS[name]
    button = go(page)
    final_posts = []
    page.on("request", lambda r: r.method == "POST" and final_posts.append(r.url))
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.touchscreen.tap(x, y)  # a finger, twice: a locator would wait for the navigation
    page.wait_for_timeout(300)
    page.touchscreen.tap(x, y)
    expect(page.get_by_text(done)).to_be_visible()
    assert len(final_posts) == 2  # both taps reached the server
    if name == "phone":
        assert history("日中のご連絡先電話番号") == 1
    else:
        assert in_db(lambda: OutboxMail.select().where(OutboxMail.to == NEW_ADDRESS).count()) == 1
        # the one mailed link is the pending one: it still works
        expect(page.get_by_text(f"{NEW_ADDRESS} 宛に")).to_be_visible()


@pytest.mark.parametrize("js", [False], ids=["nojs"])
@pytest.mark.parametrize("name", FLOWS)
def test_back_from_each_done_page_shows_our_page(page: Page, live_server, name):
    log_in(page)
    go, done, previous = FLOWS[name]
    go(page).click()
    expect(page.get_by_text(done).first).to_be_visible()
    page.go_back()
    assert page.url.startswith(live_server)  # not chrome-error://
    expect(page.get_by_text(previous)).to_be_visible()
    # Submitting that page again is a repeat: 完了 again, nothing done twice.
    final = {"credentials": "更新", "cancel": "解約する", "phone": "変更する"}.get(name, "登録する")
    page.get_by_role("button", name=final).click()
    expect(page.get_by_text(done).first).to_be_visible()


@pytest.mark.parametrize("js", [True], ids=["js"])
def test_back_from_the_line_confirm_step_returns_to_the_staged_list(page: Page):
    log_in(page)
    page.goto("/account")
    page.goto("/account/lines")
    staged = page.get_by_role("list", name="追加する回線")
    for company, number in (("NTT東日本", "03-1234-5679"), ("NTTドコモ", "090-1234-5678")):
        page.get_by_label("ご契約会社").select_option(label=company)
        page.get_by_label("お客様電話番号").fill(number)
        page.get_by_role("button", name="追加").click()
        expect(staged).to_contain_text(number)
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_role("heading", name="入力内容の確認")).to_be_visible()

    page.go_back()
    expect(page.get_by_role("heading", name="対象回線の追加・解約")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/account/lines\?"))
    expect(staged.get_by_role("listitem")).to_have_count(2)
    expect(staged).to_contain_text("03-1234-5679")
    expect(staged).to_contain_text("090-1234-5678")

    page.go_forward()  # and the confirm step again, as it was
    expect(page.get_by_role("heading", name="入力内容の確認")).to_be_visible()
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_text("Webビリング対象回線情報の変更が完了しました。")).to_be_visible()
    assert history("対象回線追加") == 2
    page.go_back()  # elsewhere Back goes to the previous page, as before
    expect(page).to_have_url(re.compile(r"/account/lines"))


@pytest.mark.parametrize("js", [False], ids=["nojs"])
def test_after_logout_back_shows_no_page_kept_for_back(page: Page, live_server):
    """The confirm pages kept for Back (the secret answer among them) go with the logout: on a
    shared phone, the next person's Back finds none of them (the browser's own resubmit page
    instead: after a logout, privacy beats a page of ours)."""
    log_in(page)
    go, done, previous = FLOWS["secret"]
    go(page).click()
    expect(page.get_by_text(done).first).to_be_visible()
    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("button", name="ログイン")).to_be_visible()
    for _ in range(4):
        try:
            page.go_back()
        except PlaywrightError as error:  # the browser's resubmit page: nothing of ours kept
            assert "ERR_CACHE_MISS" in error.message
        assert page.get_by_text(previous).count() == 0
        assert page.get_by_text("カレー").count() == 0


@pytest.mark.parametrize("ended", ["timed_out", "ended_elsewhere"])
def test_the_next_person_s_back_shows_nothing_of_a_session_that_ended_without_logout(
    page: Page, ended
):
    """A shared phone: taro leaves his secret Q/A at its confirm step, without logging out; his
    session ends (timed out, or purged / ended by a password change elsewhere); hanako logs in
    on the same browser and presses Back twice: nothing of taro's is on screen or in the page."""
    log_in(page)
    to_secret_confirm(page)
    expect(page.get_by_text("よろしければ［登録する］")).to_be_visible()
    with contextlib.ExitStack() as clock:
        if ended == "timed_out":
            clock.enter_context(time_machine.travel(utcnow() + timedelta(minutes=31)))
        else:
            in_db(lambda: LoginSession.delete().execute())
        log_in(page, "hanako0002")
        expect(page.get_by_text("請求 花子").first).to_be_visible()
        for _ in range(2):
            try:
                page.go_back()
            except PlaywrightError as error:  # the browser's resubmit page: nothing of ours kept
                assert "ERR_CACHE_MISS" in error.message
        assert page.get_by_text("よろしければ［登録する］").count() == 0
        assert "カレー" not in page.content()  # neither as text nor in a hidden field
