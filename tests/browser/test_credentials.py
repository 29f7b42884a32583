"""ログインID／ログインパスワード変更 as QA follows the guide's section 8, by its labels, on a
phone, with JavaScript on (in place inside ⑩) and off (full pages)."""

from playwright.sync_api import Page, expect

from ..conftest import PASSWORD
from .conftest import check_a11y, log_in


def open_fields(page: Page, choice: str):
    """基本情報 → ⑩ [変更] → the choice → [次へ]; returns the ⑩ card."""
    page.goto("/account")
    card = page.get_by_role("region", name="ログインID/パスワードの変更")
    card.get_by_role("link", name="変更").click()
    page.get_by_label(choice, exact=True).check()
    check_a11y(page)
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_text(f"変更する項目：{choice}")).to_be_visible()
    return card


def fill(page: Page, **labels: str) -> None:
    for label, value in labels.items():
        page.get_by_label(label, exact=True).fill(value)


def test_change_login_id(page, js):
    log_in(page)
    card = open_fields(page, "ログインID")
    fill(page, 現在のログインID="taro0001", 新しいログインID="Jiro2025x")
    if js:  # the checklist follows the typing, without a submit
        expect(card.locator("#new_login_id-more li.met")).to_have_count(4)
    fill(page, **{"新しいログインID（確認用）": "Jiro2025x", "現在のログインパスワード": PASSWORD})
    check_a11y(page)
    page.get_by_role("button", name="更新").click()
    expect(page.get_by_text("ログインID変更完了")).to_be_visible()
    expect(page.get_by_text("ログインIDを Jiro2025x に変更しました。")).to_be_visible()
    check_a11y(page)
    assert page.url.endswith("/account" if js else "/account/credentials/done/login_id")
    page.get_by_role("link", name="基本情報へ戻る").click()
    expect(
        page.get_by_role("region", name="ログインID/パスワードの変更").get_by_role(
            "link", name="変更"
        )
    ).to_be_visible()


def test_change_password_after_a_mistake(page, js):
    log_in(page)
    card = open_fields(page, "ログインパスワード")
    fill(page, 現在のログインパスワード=PASSWORD, 新しいログインパスワード="taro0001x")
    if js:
        expect(card.locator("#new_password-more li.unmet")).to_have_count(2)  # kinds, ID inside
    fill(page, **{"新しいログインパスワード（確認用）": "taro0001x"})
    page.get_by_role("button", name="更新").click()
    expect(
        page.get_by_text("英大文字・英小文字・数字・記号のうち3種類以上を含めてください。")
    ).to_be_visible()
    expect(page.get_by_label("新しいログインパスワード", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    check_a11y(page)
    fill(
        page,
        現在のログインパスワード=PASSWORD,
        新しいログインパスワード="Shin-pass42",
        **{"新しいログインパスワード（確認用）": "Shin-pass42"},
    )
    page.get_by_role("button", name="更新").click()
    expect(page.get_by_text("ログインパスワード変更完了")).to_be_visible()
    check_a11y(page)


def test_change_both_or_go_back(page, js):
    log_in(page)
    open_fields(page, "ログインID/パスワード")
    page.get_by_role("link", name="戻る").click()  # back to the choice, still ticked
    expect(page.get_by_label("ログインID/パスワード", exact=True)).to_be_checked()
    page.get_by_role("button", name="次へ").click()
    fill(
        page,
        現在のログインID="taro0001",
        新しいログインID="Jiro2025x",
        現在のログインパスワード=PASSWORD,
        新しいログインパスワード="Shin-pass42",
        **{
            "新しいログインID（確認用）": "Jiro2025x",
            "新しいログインパスワード（確認用）": "Shin-pass42",
        },
    )
    check_a11y(page)
    page.get_by_role("button", name="更新").click()
    expect(page.get_by_text("ログインID/パスワード変更完了")).to_be_visible()
    check_a11y(page)
