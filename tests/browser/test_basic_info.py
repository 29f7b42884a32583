"""QA's first screens, by the guide's labels: log in, open 基本情報 from the main menu."""

from playwright.sync_api import expect

from .conftest import check_a11y, log_in


def test_log_in_and_read_basic_info(page, js):
    log_in(page)
    check_a11y(page)
    expect(page.get_by_text("済日利 太郎 様", exact=True)).to_be_visible()
    expect(page.get_by_text("前回ログイン日時：")).to_be_visible()
    # On a phone the main menu sits behind the menu button (a <details>, no JS needed).
    menu_link = page.get_by_role("navigation", name="メインメニュー").get_by_role(
        "link", name="基本情報 (対象回線追加など)"
    )
    expect(menu_link).to_be_hidden()
    page.get_by_text("メニュー", exact=True).click()
    menu_link.click()
    page.wait_for_url("**/account")
    check_a11y(page)
    phone = page.get_by_role("region", name="日中のご連絡先電話番号")
    expect(phone).to_contain_text("03-1234-5678")
    expect(phone.get_by_role("link", name="変更")).to_be_visible()
    expect(page.get_by_role("region", name="お客様名")).to_contain_text("済日利 太郎")
    expect(page.get_by_role("region", name="連絡先メールアドレス", exact=True)).to_contain_text(
        "taro@example.com"
    )
    if js:  # evaluate() needs JavaScript
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll


def test_wrong_password_then_logout(page):
    page.goto("/login")
    page.get_by_label("ログインID").fill("taro0001")
    page.get_by_label("ログインパスワード").fill("nope-nope")
    page.get_by_role("button", name="ログイン").click()
    expect(
        page.get_by_text("ログインIDまたはログインパスワードが正しくありません。")
    ).to_be_visible()
    check_a11y(page)
    log_in(page)
    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_text("ログアウトしました。")).to_be_visible()
    page.goto("/account")
    page.wait_for_url("**/login?next=/account")
