"""The guide's sections 2, 6 and 7 as QA runs them: by visible labels, on a phone, with
JavaScript on (each step swapped into the card, the page stays /account) and off (full pages)."""

import re

from playwright.sync_api import expect

from .conftest import check_a11y, log_in


def open_account(page):
    log_in(page)
    page.goto("/account")
    check_a11y(page)


def test_change_daytime_phone(page, js):
    open_account(page)
    card = page.locator("#phone")
    card.get_by_role("link", name="変更").click()
    field = page.get_by_label("新しい日中のご連絡先電話番号")
    expect(field).to_be_visible()
    check_a11y(page)
    field.fill("０９０－１２")
    page.locator("#phone").get_by_role("button", name="変更").click()
    expect(page.get_by_text("電話番号の桁数が足りません。")).to_be_visible()
    check_a11y(page)
    page.get_by_label("新しい日中のご連絡先電話番号").fill("０９０－１２３４－５６７８")
    page.locator("#phone").get_by_role("button", name="変更").click()
    expect(page.locator("#phone")).to_contain_text("090-1234-5678")
    check_a11y(page)
    page.get_by_role("button", name="変更する").click()
    expect(page.get_by_text("連絡先電話番号変更完了")).to_be_visible()
    check_a11y(page)
    if js:
        expect(page).to_have_url(re.compile(r"/account$"))  # swapped in place, no page load
    else:
        expect(page).to_have_url(re.compile(r"/account/phone/done$"))
    page.get_by_role("link", name="基本情報へ戻る").click()
    expect(page.locator("#phone")).to_contain_text("090-1234-5678")


def test_cancel_and_back_keep_things_as_they_were(page, js):
    open_account(page)
    page.locator("#phone").get_by_role("link", name="変更").click()
    page.get_by_label("新しい日中のご連絡先電話番号").fill("0612345678")
    page.locator("#phone").get_by_role("button", name="変更").click()
    page.get_by_role("button", name="戻る").click()
    expect(page.get_by_label("新しい日中のご連絡先電話番号")).to_have_value("0612345678")
    page.get_by_role("link", name="キャンセル").click()
    expect(page.locator("#phone")).to_contain_text("03-1234-5678")


def test_secret_auth_setting_and_d_account_unlink(page, js):
    open_account(page)
    page.locator("#secret-auth").get_by_role("link", name="変更").click()
    page.get_by_label("設定する", exact=True).check()
    check_a11y(page)
    page.get_by_role("button", name="次へ").click()
    check_a11y(page)
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_text("秘密の質問による認証設定完了")).to_be_visible()
    check_a11y(page)
    page.goto("/account")
    daccount = page.get_by_role("region", name="dアカウント連携登録有無")
    expect(daccount).to_contain_text("登録済")
    daccount.get_by_role("button", name="解除").click()
    daccount = page.get_by_role("region", name="dアカウント連携登録有無")
    expect(daccount).to_contain_text("未登録")
    # No provider configured here, so no note pointing to a button that is not there (with
    # one: tests/browser/test_daccount.py).
    expect(daccount).not_to_contain_text("dアカウントでログイン")
    check_a11y(page)
    page.goto("/account/history")
    expect(page.get_by_role("heading", name="変更履歴")).to_be_visible()
    expect(page.get_by_text("dアカウント連携")).to_be_visible()
    check_a11y(page)
