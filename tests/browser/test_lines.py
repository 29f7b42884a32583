"""Webビリング対象回線の変更 and 一括解約 as QA follows the guide: by its labels, on a 360px
phone, with JavaScript on and off, axe-scanned at every step."""

from playwright.sync_api import expect

from ..test_lines import give_lines
from .conftest import check_a11y, log_in


def add(page, company: str, number: str) -> None:
    page.get_by_label("ご契約会社").select_option(label=company)
    page.get_by_label("お客様電話番号").fill(number)
    page.get_by_role("button", name="追加").click()


def test_add_two_lines_remove_one_and_cancel_one(page, js):
    # Near the 200 limit where JavaScript can measure the width; fewer without, where axe has
    # to re-show every page in a second tab. Both exceed 10, so the ⑦ list starts folded.
    total = 198 if js else 12
    give_lines(total - 1)  # plus the demo's 03-1234-5678
    log_in(page)
    page.goto("/account")
    page.get_by_role("region", name="Webビリング対象回線追加・変更").get_by_role(
        "link", name="変更"
    ).click()
    page.wait_for_url("**/account/lines")
    check_a11y(page)
    if js:
        page.evaluate("window.notReloaded = true")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

    staged = page.get_by_role("list", name="追加する回線")
    add(page, "NTT東日本", "０３－１２３４－５６７９")  # as typed on a phone
    expect(staged).to_contain_text("NTT東日本 03-1234-5679")
    expect(page.get_by_label("お客様電話番号")).to_have_value("")
    add(page, "NTTドコモ", "090-1234-5678")
    expect(staged).to_contain_text("NTTドコモ 090-1234-5678")
    add(page, "NTT東日本", "03-1111-2222")  # another holder's line
    expect(page.get_by_role("group", name="対象回線追加")).to_contain_text(
        "登録済みの回線名義と異なる名義の回線は追加できません。"
    )
    expect(page.get_by_label("お客様電話番号")).to_have_attribute("aria-invalid", "true")
    check_a11y(page)
    page.get_by_label("お客様電話番号").fill("")  # give up on that one

    staged.get_by_role("listitem").filter(has_text="090-1234-5678").get_by_role(
        "button", name="削除"
    ).click()
    expect(staged).not_to_contain_text("090-1234-5678")
    expect(staged.get_by_role("listitem")).to_have_count(1)
    if js:
        assert page.evaluate("window.notReloaded") is True  # staging never reloaded the page

    page.get_by_role("checkbox", name="03-1234-5678").check()
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_role("heading", name="入力内容の確認")).to_be_visible()
    expect(page.get_by_role("list").filter(has_text="03-1234-5679")).to_have_count(1)
    expect(page.get_by_text("NTT東日本 03-1234-5678")).to_be_visible()  # to be cancelled
    check_a11y(page)
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_text("Webビリング対象回線情報の変更が完了しました。")).to_be_visible()
    check_a11y(page)

    page.get_by_role("link", name="基本情報へ戻る").click()
    page.wait_for_url("**/account")
    card = page.get_by_role("region", name="Webビリング対象回線追加・変更")
    expect(card).to_contain_text(f"登録回線 {total}回線")  # +1 added, -1 cancelled
    card.get_by_text(f"登録回線 {total}回線").click()  # a long list starts folded
    expect(card).to_contain_text("03-1234-5679")
    expect(card).not_to_contain_text("03-1234-5678")
    check_a11y(page)


def test_bulk_cancellation(page, js):
    log_in(page)
    page.goto("/account/lines")
    page.get_by_role("link", name="Webビリング一括解約").click()
    expect(page.get_by_role("link", name="解約する")).to_be_visible()
    check_a11y(page)
    # The same flow starts from ⑪ on 基本情報.
    page.goto("/account")
    page.get_by_role("region", name="Webビリングの解約").get_by_role("link", name="解約").click()
    page.get_by_role("link", name="解約する").click()
    check_a11y(page)
    page.get_by_label("解約理由").select_option(label="利用する機会が少ないため")
    page.get_by_role("button", name="解約", exact=True).click()
    expect(page.get_by_text("利用する機会が少ないため")).to_be_visible()
    check_a11y(page)
    page.get_by_role("button", name="解約する").click()
    expect(page.get_by_role("status")).to_contain_text("Webビリング一括解約完了")
    expect(page.get_by_role("button", name="ログアウト")).to_have_count(0)  # no session left
    check_a11y(page)

    page.get_by_role("link", name="ログインページへ").click()
    page.get_by_label("ログインID").fill("taro0001")
    page.get_by_label("ログインパスワード").fill("Webbill#2024")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_text("Webビリングは解約済みのため、ログインできません。")).to_be_visible()
