"""Every security-relevant change is told to the member at the contact address, with no link
in it and the 受付担当 number: here the secret question/answer, the secret-question login
setting and the d-account unlink (password, login ID, 一括解約 and the address itself are
tested with their features)."""

import re

import pytest

from models import Member, OutboxMail

from .conftest import delivering, in_db, log_in, make_app, post

CHANGES = {
    "secret": (
        "/account/secret",
        {"secret_question": "好きな食べ物は？", "secret_answer": "カレー"},
        "【WebBilling】秘密の質問と回答変更のお知らせ",
        "秘密の質問と回答が変更されました",
    ),
    "secret-auth": (
        "/account/secret-auth",
        {"setting": "on"},
        "【WebBilling】秘密の質問による認証設定変更のお知らせ",
        "秘密の質問による認証が「設定する」に変更されました",
    ),
    "d-account unlink": (
        "/account/d-account/unlink",
        {},
        "【WebBilling】dアカウント連携解除のお知らせ",
        "dアカウントの連携が解除されました",
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_the_change_is_mailed_to_the_contact_address_without_a_link(app, tmp_path, smtp, change):
    url, data, subject, sentence = CHANGES[change]
    mailing = make_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    client = mailing.test_client()
    log_in(client)
    with delivering(mailing):
        assert post(client, url, data).status_code == 303
        assert smtp.received.wait(5)
    [message] = smtp.messages
    assert message["To"] == "taro@example.com" and message["Subject"] == subject
    body = message.get_content()
    assert "済日利 太郎 様" in body and sentence in body
    assert "0800-333-0030" in body and "お心当たりがない場合" in body
    assert not re.search(r"https?://|www\.|/email/confirm/", body)
    assert in_db(lambda: OutboxMail.get().sent_at) is not None


@pytest.mark.parametrize("change", CHANGES)
def test_no_contact_address_no_mail_and_the_change_is_made(client, change):
    url, data, _, _ = CHANGES[change]
    in_db(lambda: Member.update(email=None).where(Member.login_id_key == "taro0001").execute())
    log_in(client)
    response = post(client, url, data)
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).status_code == 200
    assert in_db(OutboxMail.select().count) == 0
    taro = in_db(lambda: Member.get(Member.login_id_key == "taro0001"))
    assert (taro.secret_auth_enabled, taro.d_account_linked) == (
        change == "secret-auth",
        change != "d-account unlink",
    )
