"""The QA tools as a tester uses them (issue #13): the app in development mode as `make run`
serves it, the QA page reached from the footer, each button, then the guide screen it is for;
on a phone, JavaScript on and off, axe-scanned."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

import clock
from models import OutboxMail

from ..conftest import PASSWORD, in_db, make_app
from .conftest import check_a11y, log_in

ANSWER = "カレー"


@pytest.fixture
def app(app, tmp_path):
    """Development mode (FLASK_DEBUG=1), on the seeded database."""
    dev = make_app(tmp_path, DEBUG=True)
    yield dev
    clock.set_dev_offset(clock.ZERO)


def open_qa_page(page: Page) -> None:
    """From whatever page is showing, the footer's 「QAツール」."""
    page.get_by_role("contentinfo").get_by_role("link", name="QAツール").click()
    expect(page.get_by_role("heading", name="QAツール", level=1)).to_be_visible()
    check_a11y(page)


def press(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("status")).to_be_visible()
    check_a11y(page)


def run_scenario(page: Page, title: str) -> None:
    page.goto("/dev/")
    press(page, title)
    expect(page.get_by_role("status")).to_contain_text(f"シナリオ「{title}」を用意しました")


def try_login(page: Page, login_id: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("ログインID").fill(login_id)
    page.get_by_label("ログインパスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()


def advance_clock(page: Page, hours: str) -> None:
    page.get_by_label("時計を進める（時間）").fill(hours)
    press(page, "進める")


def open_mailed_link(page: Page, address: str) -> None:
    """開発用メールボックス → 宛先 → the link in the newest mail."""
    page.goto("/dev/")
    page.get_by_role("link", name="開発用メールボックス").first.click()
    page.get_by_label("宛先").fill(address)
    page.get_by_role("button", name="絞り込む").click()
    expect(page.get_by_text(f"宛先に「{address}」を含むメール：1通")).to_be_visible()
    check_a11y(page)
    page.get_by_role("link", name="/email/confirm/").click()


def add_line(page: Page, company: str, number: str) -> None:
    page.get_by_label("ご契約会社").select_option(label=company)
    page.get_by_label("お客様電話番号").fill(number)
    page.get_by_role("button", name="追加").click()


def email_card(page: Page):
    return page.get_by_role("region", name="連絡先メールアドレス", exact=True)


def test_reset_after_a_password_change(page: Page, js):
    log_in(page)
    page.goto("/account")
    page.get_by_role("region", name="ログインID/パスワードの変更").get_by_role(
        "link", name="変更"
    ).click()
    page.get_by_label("ログインパスワード", exact=True).check()
    page.get_by_role("button", name="次へ").click()
    page.get_by_label("現在のログインパスワード").fill(PASSWORD)
    page.get_by_label("新しいログインパスワード", exact=True).fill("Shin-pass42")
    page.get_by_label("新しいログインパスワード（確認用）").fill("Shin-pass42")
    page.get_by_role("button", name="更新").click()
    expect(page.get_by_text("ログインパスワード変更完了")).to_be_visible()

    open_qa_page(page)
    press(page, "デモデータを初期化")
    expect(page.get_by_role("status")).to_contain_text("デモデータを初期化しました")
    expect(page.get_by_role("status")).to_contain_text("ログイン中だった画面はすべてログアウト")
    page.goto("/account")  # the tester's session went with the reset
    expect(page.get_by_label("ログインID")).to_be_visible()
    log_in(page)  # the demo password works again
    expect(page.get_by_role("heading", name="WebビリングTOP")).to_be_visible()


def test_the_app_time_is_on_every_page(page: Page):
    page.goto("/login")
    banner = page.get_by_role("banner").get_by_text("開発モード　アプリの時刻：")
    expect(banner).to_contain_text(clock.format_jst(clock.utcnow())[:11])
    assert page.evaluate("getComputedStyle(document.querySelector('.devbar')).fontSize") == "12px"
    open_qa_page(page)
    advance_clock(page, "25")
    expect(page.get_by_role("status")).to_contain_text("実際の時刻より+25時間先")
    page.goto("/login")
    expect(page.get_by_role("banner")).to_contain_text("（実際より+25時間）")
    check_a11y(page)
    open_qa_page(page)
    press(page, "元に戻す")
    expect(page.get_by_role("banner")).not_to_contain_text("実際より")


def test_a_wrong_amount_of_hours_is_explained(page: Page):
    page.goto("/dev/")
    advance_clock_field = page.get_by_label("時計を進める（時間）")
    advance_clock_field.fill("あした")
    page.get_by_role("button", name="進める", exact=True).click()
    expect(page.get_by_text("0より大きい時間数を数字で入力してください")).to_be_visible()
    expect(advance_clock_field).to_have_attribute("aria-invalid", "true")
    check_a11y(page)


def test_clock_25_hours_then_the_pending_link_is_expired(page: Page, js):
    run_scenario(page, "メールアドレス変更の確認待ち")
    open_mailed_link(page, "qa.taro@example.com")
    expect(page.get_by_text("③ 秘密の質問の回答を入力")).to_be_visible()
    link = page.url

    open_qa_page(page)
    advance_clock(page, "25")
    page.goto(link)
    expect(page.get_by_role("heading", name="URLの有効期限切れ")).to_be_visible()
    expect(page.get_by_text("このURLは有効期限（24時間）が切れています。")).to_be_visible()
    check_a11y(page)


def test_clock_31_minutes_after_a_login_then_the_next_click_asks_to_log_in(page: Page, js):
    log_in(page)
    page.goto("/account")
    qa = page.context.new_page()  # the QA page in a second tab, as a tester keeps it
    qa.axe_context = page.axe_context
    qa.goto("/dev/")
    advance_clock(qa, "0.52")
    expect(qa.get_by_role("status")).to_contain_text("+31分")
    qa.close()

    email_card(page).get_by_role("link", name="変更", exact=True).click()
    page.wait_for_url(re.compile(r"/login\?next="))
    expect(page.get_by_text("一定時間が経過したため、ログアウトしました。")).to_be_visible()
    check_a11y(page)
    page.get_by_label("ログインID").fill("taro0001")
    page.get_by_label("ログインパスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(re.compile(r"/account"))  # back where the click was going


def test_mailbox_filter_and_clear(page: Page, js):
    def write():
        for i in range(22):
            OutboxMail.create(to="many@example.com", subject=f"お知らせ{i}", body="本文")
        OutboxMail.create(to="qa@example.net", subject="確認用", body="https://x.example/a")

    in_db(write)
    page.goto("/login")
    page.get_by_role("contentinfo").get_by_role("link", name="開発用メールボックス").click()
    expect(page.get_by_text("全23通（1/2ページ）")).to_be_visible()
    expect(page.get_by_role("heading", level=2).first).to_have_text("確認用")  # newest first
    check_a11y(page)
    page.get_by_role("link", name="次のページ（古いメール）").click()
    expect(page.get_by_role("heading", level=2)).to_have_count(3)
    expect(page.get_by_role("heading", level=2).last).to_have_text("お知らせ0")

    page.get_by_label("宛先").fill("qa@example.net")
    page.get_by_role("button", name="絞り込む").click()
    expect(page.get_by_text("宛先に「qa@example.net」を含むメール：1通")).to_be_visible()
    expect(page.get_by_role("link", name="https://x.example/a")).to_be_visible()
    check_a11y(page)

    press(page, "メールを全て削除")
    expect(page.get_by_role("status")).to_contain_text("メールを全て削除しました（23通）")
    expect(page.get_by_text("メールはありません。")).to_be_visible()


# --- Each scenario, then the guide screen it is for ----------------------------------------


def test_locked_out(page: Page, js):
    run_scenario(page, "ログインロック中")
    expect(page.get_by_role("status")).to_contain_text("taro0001 をロックしました")
    try_login(page, "taro0001")
    expect(
        page.get_by_text("ログインIDまたはログインパスワードが正しくありません。")
    ).to_be_visible()
    check_a11y(page)
    open_qa_page(page)
    advance_clock(page, "0.5")  # the 30-minute lock is over
    try_login(page, "taro0001")
    expect(page.get_by_role("heading", name="WebビリングTOP")).to_be_visible()


def test_email_change_waiting_for_its_link(page: Page, js):
    run_scenario(page, "メールアドレス変更の確認待ち")
    log_in(page)
    page.goto("/account")
    expect(email_card(page)).to_contain_text("変更手続き中：qa.taro@example.com")
    open_mailed_link(page, "qa.taro@example.com")
    page.get_by_label("秘密の質問", exact=True).select_option("好きな食べ物は？")
    page.get_by_label("秘密の質問の回答").fill(ANSWER)
    check_a11y(page)
    page.get_by_role("button", name="登録", exact=True).click()
    expect(
        page.get_by_text("連絡先メールアドレス登録/変更のお手続きが完了しました。")
    ).to_be_visible()


def test_email_link_expired(page: Page, js):
    run_scenario(page, "確認メールのURL期限切れ")
    open_mailed_link(page, "qa.taro@example.com")
    expect(page.get_by_role("heading", name="URLの有効期限切れ")).to_be_visible()
    check_a11y(page)
    log_in(page)
    page.goto("/account")
    expect(email_card(page)).to_contain_text("が過ぎました。お手続きを続けるには確認メールを再送")
    check_a11y(page)


def test_secret_question_login(page: Page, js):
    run_scenario(page, "秘密の質問による認証あり")
    try_login(page, "hanako0002")
    expect(page.get_by_text("好きな食べ物は？")).to_be_visible()
    check_a11y(page)
    page.get_by_label("秘密の質問の回答").fill(ANSWER)
    page.get_by_role("button").filter(has_text="ログイン").last.click()
    expect(page.get_by_role("heading", name="WebビリングTOP")).to_be_visible()


def test_199_lines(page: Page, js):
    run_scenario(page, "対象回線199回線")
    log_in(page)
    page.goto("/account")
    lines = page.get_by_role("region", name="Webビリング対象回線追加・変更")
    expect(lines).to_contain_text("登録回線 199回線")
    lines.get_by_role("link", name="変更").click()
    page.wait_for_url("**/account/lines")
    add_line(page, "NTT東日本", "03-1234-5679")  # the 200th
    expect(page.get_by_role("list", name="追加する回線")).to_contain_text("NTT東日本 03-1234-5679")
    expect(page.get_by_label("お客様電話番号")).to_have_value("")
    add_line(page, "NTTドコモ", "090-1234-5678")  # one too many
    expect(page.get_by_text("登録できる回線は200回線までです。")).to_be_visible()
    check_a11y(page)


def test_cancelled(page: Page, js):
    run_scenario(page, "一括解約済み")
    try_login(page, "taro0001")
    expect(page.get_by_text("Webビリングは解約済みのため、ログインできません。")).to_be_visible()
    check_a11y(page)


def test_no_contact_address(page: Page, js):
    run_scenario(page, "連絡先メールアドレス未登録")
    log_in(page)
    page.goto("/account")
    card = page.get_by_role("region", name="連絡先メールアドレス登録有無")
    expect(card).to_contain_text("未登録")
    email_card(page).get_by_role("link", name="変更", exact=True).click()
    expect(page.get_by_label("新しい連絡先メールアドレス", exact=True)).to_be_visible()
    check_a11y(page)
