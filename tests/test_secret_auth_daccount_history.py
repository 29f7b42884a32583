"""秘密の質問による認証設定, dアカウント連携登録解除 and 変更履歴 (SPEC §2.6, §2.7)."""

import pytest

from models import ChangeHistory, Member

from .conftest import HX, in_db, log_in, post, token_in


def taro():
    return in_db(lambda: Member.get(Member.login_id_key == "taro0001"))


@pytest.mark.parametrize("headers", [HX, None])
def test_turn_secret_auth_on_then_login_asks_the_question(client, headers):
    log_in(client)
    edit = client.get("/account/secret-auth", headers=headers).get_data(as_text=True)
    assert "設定する" in edit and "設定しない" in edit and ">次へ</button>" in edit
    confirm = post(client, "/account/secret-auth/confirm", {"setting": "on"}, headers)
    assert ">登録する</button>" in confirm.get_data(as_text=True)
    assert taro().secret_auth_enabled is False
    done = post(client, "/account/secret-auth", {"setting": "on"}, headers)
    if headers:
        assert "秘密の質問による認証設定完了" in done.get_data(as_text=True)
    else:
        assert done.status_code == 303
        assert "秘密の質問による認証設定完了" in client.get(done.headers["Location"]).get_data(
            as_text=True
        )
    assert taro().secret_auth_enabled is True
    post(client, "/logout")
    assert log_in(client).headers["Location"] == "/login/secret"


def test_cannot_turn_on_without_a_secret_question(client):
    in_db(lambda: Member.update(secret_question=None, secret_answer_hash=None).execute())
    log_in(client)
    for url in ("/account/secret-auth/confirm", "/account/secret-auth"):
        response = post(client, url, {"setting": "on"}, HX)
        assert response.status_code == 422
        assert "秘密の質問が登録されていないため、設定できません。" in response.get_data(
            as_text=True
        )
    assert taro().secret_auth_enabled is False


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("off", "現在の設定も「設定しない」です。"),
        ("maybe", "いずれかを選択してください。"),
        ("", "いずれかを選択してください。"),
    ],
)
def test_bad_or_unchanged_setting_is_refused(member_client, setting, message):
    response = post(member_client, "/account/secret-auth", {"setting": setting}, HX)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert in_db(ChangeHistory.select().count) == 0


def test_unlink_d_account(member_client):
    account = member_client.get("/account").get_data(as_text=True)
    assert ">解除</button>" in account
    done = post(member_client, "/account/d-account/unlink", headers=HX)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "未登録" in html
    assert "dアカウントでログイン" not in html  # no provider configured: no button to point to
    assert taro().d_account_linked is False
    assert ">解除</button>" not in member_client.get("/account").get_data(as_text=True)


def test_unlink_without_javascript(member_client):
    done = post(member_client, "/account/d-account/unlink")
    assert done.status_code == 303 and done.headers["Location"] == "/account/d-account/done"
    assert "未登録" in member_client.get("/account/d-account/done").get_data(as_text=True)


def test_forged_unlink_for_an_unlinked_member_changes_nothing(client):
    log_in(client, "hanako0002")
    assert ">解除</button>" not in client.get("/account").get_data(as_text=True)
    response = post(client, "/account/d-account/unlink", headers=HX)
    assert response.status_code == 409
    assert "登録されていないため、解除するものはありません" in response.get_data(as_text=True)
    assert in_db(ChangeHistory.select().count) == 0


def test_history_lists_own_changes_newest_first_and_masked(app, member_client):
    post(member_client, "/account/phone", {"new_phone": "09011112222"})
    post(member_client, "/account/d-account/unlink")
    other = app.test_client()
    log_in(other, "hanako0002")
    post(other, "/account/phone", {"new_phone": "08033334444"})
    page = member_client.get("/account/history").get_data(as_text=True)
    assert page.index("dアカウント連携") < page.index("日中のご連絡先電話番号")
    assert "2222" in page and "09011112222" not in page and "090-1111" not in page
    assert "4444" not in page  # 花子's change is not shown to 太郎
    assert "変更履歴" in member_client.get("/account").get_data(as_text=True)


def test_history_is_empty_at_first(member_client):
    assert "変更履歴はまだありません。" in member_client.get("/account/history").get_data(
        as_text=True
    )


def test_secret_auth_token_from_page(member_client):
    html = member_client.get("/account/secret-auth").get_data(as_text=True)
    assert token_in(html)
