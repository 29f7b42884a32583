"""Guide sections 3 and 4 as a member does them, by the guide's labels, with JavaScript on and
off: change the contact address, open the link from the mail, answer the question."""

from playwright.sync_api import Page, expect

from models import OutboxMail

from ..conftest import in_db
from .conftest import check_a11y, log_in

NEW_ADDRESS = "new.taro@example.net"


def email_card(page: Page):
    return page.get_by_role("region", name="連絡先メールアドレス", exact=True)


def open_email_change(page: Page) -> None:
    page.goto("/account")
    check_a11y(page)
    email_card(page).get_by_role("link", name="変更", exact=True).click()
    expect(page.get_by_role("link", name="変更しない")).to_be_visible()
    check_a11y(page)


def test_change_contact_address_and_confirm_from_the_mail(page: Page, live_server, js):
    log_in(page)
    open_email_change(page)
    page.get_by_role("link", name="変更する").click()

    page.get_by_label("新しい連絡先メールアドレス", exact=True).fill(NEW_ADDRESS)
    page.get_by_label("新しい連絡先メールアドレス（確認用）").fill("new.taro@example.com")
    page.get_by_label("秘密の質問", exact=True).select_option("好きな食べ物は？")
    page.get_by_label("秘密の質問の回答").fill("ＡＢＣ")
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_text("新しい連絡先メールアドレスと一致しません。")).to_be_visible()
    check_a11y(page)

    page.get_by_label("新しい連絡先メールアドレス（確認用）").fill(NEW_ADDRESS)
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_role("button", name="登録する")).to_be_visible()
    expect(page.get_by_text(NEW_ADDRESS)).to_be_visible()
    check_a11y(page)
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_text("連絡先メールアドレス登録/変更受付完了")).to_be_visible()
    expect(page.get_by_text("受信メールをご確認ください！")).to_be_visible()
    check_a11y(page)
    # With JavaScript every step was swapped into the card; without, each was a page.
    assert page.url.endswith("/account" if js else "/account/email/sent")

    page.goto("/account")  # the old address stays, the pending change is shown
    expect(email_card(page)).to_contain_text("taro@example.com")
    expect(email_card(page)).to_contain_text(f"変更手続き中：{NEW_ADDRESS}")

    body = in_db(lambda: OutboxMail.get(OutboxMail.to == NEW_ADDRESS).body)
    link = next(word for word in body.split() if "/email/confirm/" in word)
    # The mail names the configured site (EXTERNAL_BASE_URL): here, the live server.
    assert link.startswith(live_server + "/email/confirm/")
    page.goto(link)
    expect(page.get_by_text("③ 秘密の質問の回答を入力")).to_be_visible()
    check_a11y(page)
    page.get_by_label("秘密の質問", exact=True).select_option("好きな食べ物は？")
    page.get_by_label("秘密の質問の回答").fill("ABC")  # half-width: not what was typed
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_text("秘密の質問または秘密の質問の回答が正しくありません。")).to_be_visible()
    check_a11y(page)
    page.get_by_label("秘密の質問", exact=True).select_option("好きな食べ物は？")
    page.get_by_label("秘密の質問の回答").fill("ＡＢＣ")
    page.get_by_role("button", name="登録", exact=True).click()
    expect(
        page.get_by_text("連絡先メールアドレス登録/変更のお手続きが完了しました。")
    ).to_be_visible()
    check_a11y(page)
    assert "/email/confirm/" in page.url if js else page.url.endswith("/email/done")
    expect(page.get_by_role("link", name="ログインページへ戻る")).to_be_visible()

    page.goto("/account")
    expect(email_card(page)).to_contain_text(NEW_ADDRESS)
    expect(email_card(page)).not_to_contain_text("変更手続き中")


def test_change_only_the_secret_question(page: Page, js):
    log_in(page)
    open_email_change(page)
    page.get_by_role("link", name="変更しない").click()
    page.get_by_label("秘密の質問", exact=True).select_option("出身小学校の名前は？")
    page.get_by_label("秘密の質問の回答").fill("あ" * 21)
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_text("全角20文字、半角40文字までで入力してください")).to_be_visible()
    check_a11y(page)
    page.get_by_label("秘密の質問の回答").fill("さくら小学校")
    page.get_by_role("button", name="登録", exact=True).click()
    expect(page.get_by_role("button", name="登録する")).to_be_visible()
    check_a11y(page)
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_text("秘密の質問と回答の登録／変更完了")).to_be_visible()
    check_a11y(page)
    assert page.url.endswith("/account" if js else "/account/secret/done")
