"""秘密の質問／回答: the answer's width rule (pure) and the §2.4 change inside the ⑥ card."""

import pytest

from blueprints.secret.rules import answer_problem, answer_units
from hashing import verify_secret
from models import ChangeHistory, Member

from .conftest import HX, in_db, post

NEW = {"secret_question": "好きな食べ物は？", "secret_answer": "ＡＢＣ"}


def taro():
    return in_db(lambda: Member.get(Member.login_id_key == "taro0001"))


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("abc", 3),
        ("やまだ", 6),  # W (wide)
        ("ＡＢＣ", 6),  # F (full-width)
        ("ｱｲｳ", 3),  # H (half-width katakana)
        ("○", 1),  # A (ambiguous) counts 1
        ("α", 1),  # A
        ("①", 1),  # A
        ("😀", 2),  # W
        ("山田 太郎", 9),  # the space is Na
        ("", 0),
    ],
)
def test_answer_units_counts_full_and_wide_as_two(text, units):
    assert answer_units(text) == units


@pytest.mark.parametrize(
    "text",
    ["a" * 40, "あ" * 20, "あ" * 19 + "ab", "○" * 40, "α" * 40, " やまだ ", "ＡＢＣ"],
)
def test_answers_that_fit(text):
    assert answer_problem(text) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a" * 41, "全角20文字、半角40文字まで"),
        ("あ" * 21, "全角20文字、半角40文字まで"),
        ("あ" * 19 + "abc", "全角20文字、半角40文字まで"),
        ("○" * 41, "全角20文字、半角40文字まで"),
        ("", "秘密の質問の回答を入力してください。"),
        ("   ", "秘密の質問の回答を入力してください。"),
        ("やま\nだ", "使用できない文字"),
        ("やま\u200bだ", "使用できない文字"),  # zero-width space (Cf)
    ],
)
def test_answers_refused(text, message):
    assert message in answer_problem(text)


def test_keep_address_leads_to_the_secret_form(member_client):
    choice = member_client.get("/account/email", headers=HX).get_data(as_text=True)
    assert 'href="/account/secret"' in choice and ">変更しない</a>" in choice
    form = member_client.get("/account/secret", headers=HX).get_data(as_text=True)
    assert "<html" not in form and 'id="email"' in form
    assert '<label for="secret_question">秘密の質問</label>' in form
    assert '<label for="secret_answer">秘密の質問の回答</label>' in form
    assert "全角20文字、半角40文字まで" in form and 'autocomplete="off"' in form
    assert "新しい連絡先メールアドレス" not in form
    page = member_client.get("/account/secret").get_data(as_text=True)
    assert "<html" in page and 'action="/account/secret/confirm"' in page


def test_whole_flow_with_htmx(member_client):
    confirm = post(member_client, "/account/secret/confirm", NEW, HX)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "<html" not in html
    assert "好きな食べ物は？" in html and ">登録する</button>" in html and ">戻る</button>" in html
    assert taro().secret_question == "母親の旧姓は？"  # nothing stored yet
    done = post(member_client, "/account/secret", NEW, HX)
    assert done.status_code == 200
    assert "秘密の質問と回答の登録／変更完了" in done.get_data(as_text=True)
    member = taro()
    assert member.secret_question == "好きな食べ物は？"
    assert member.secret_answer_hash.startswith("$argon2id$")
    assert verify_secret(member.secret_answer_hash, "ＡＢＣ")
    assert not verify_secret(member.secret_answer_hash, "ABC")  # no NFKC folding
    assert member.email == "taro@example.com"
    change = in_db(lambda: ChangeHistory.get())
    assert change.kind == "秘密の質問と回答" and "ＡＢＣ" not in change.detail


def test_whole_flow_without_javascript(member_client):
    confirm = post(member_client, "/account/secret/confirm", NEW)
    assert "<html" in confirm.get_data(as_text=True)
    done = post(member_client, "/account/secret", NEW)
    assert done.status_code == 303 and done.headers["Location"] == "/account/secret/done"
    page = member_client.get("/account/secret/done").get_data(as_text=True)
    assert "秘密の質問と回答の登録／変更完了" in page
    assert verify_secret(taro().secret_answer_hash, "ＡＢＣ")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"secret_question": "", "secret_answer": "やまだ"}, "秘密の質問を選択してください。"),
        (
            {"secret_question": "好きな色は？", "secret_answer": "やまだ"},
            "秘密の質問を選択してください。",
        ),
        (
            {"secret_question": "好きな食べ物は？", "secret_answer": ""},
            "秘密の質問の回答を入力してください。",
        ),
        (
            {"secret_question": "好きな食べ物は？", "secret_answer": "あ" * 21},
            "全角20文字、半角40文字まで",
        ),
    ],
)
@pytest.mark.parametrize("headers", [HX, None])
def test_bad_input_is_explained_next_to_the_field(member_client, data, message, headers):
    for url in ("/account/secret/confirm", "/account/secret"):
        response = post(member_client, url, data, headers)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html and 'aria-invalid="true"' in html
    assert taro().secret_question == "母親の旧姓は？"
    assert in_db(ChangeHistory.select().count) == 0


def test_back_keeps_the_input(member_client):
    back = post(member_client, "/account/secret/edit", NEW, HX).get_data(as_text=True)
    assert 'value="ＡＢＣ"' in back and '<option selected value="好きな食べ物は？">' in back


def test_steps_need_login(client):
    assert client.get("/account/secret").status_code == 303
    assert client.get("/account/secret/done").status_code == 303
