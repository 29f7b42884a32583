"""ご連絡先電話番号変更: each step with htmx (fragments) and without (full pages, 303)."""

import pytest

from models import ChangeHistory, Member

from .conftest import HX, in_db, log_in, post


def phone_of(login_id="taro0001"):
    return in_db(lambda: Member.get(Member.login_id_key == login_id).daytime_phone)


def test_edit_step_fragment_and_full_page(member_client):
    fragment = member_client.get("/account/phone", headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith("<section") and "<html" not in fragment
    assert 'id="phone"' in fragment and "新しい日中のご連絡先電話番号" in fragment
    assert 'type="tel"' in fragment and 'autocomplete="tel"' in fragment
    assert 'inputmode="tel"' in fragment
    page = member_client.get("/account/phone").get_data(as_text=True)
    assert "<html" in page and 'action="/account/phone/confirm"' in page


def test_whole_flow_with_htmx(member_client):
    confirm = post(
        member_client, "/account/phone/confirm", {"new_phone": "０９０－１２３４－５６７８"}, HX
    )
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert "090-1234-5678" in html and ">変更する</button>" in html and "<html" not in html
    assert phone_of() == "0312345678"  # nothing stored before the final POST
    done = post(member_client, "/account/phone", {"new_phone": "09012345678"}, HX)
    assert done.status_code == 200
    assert "連絡先電話番号変更完了" in done.get_data(as_text=True)
    assert phone_of() == "09012345678"
    change = in_db(lambda: ChangeHistory.get())
    assert change.kind == "日中のご連絡先電話番号" and "5678" in change.detail
    assert "090" not in change.detail


def test_whole_flow_without_javascript(member_client):
    confirm = post(member_client, "/account/phone/confirm", {"new_phone": "06 1234 5678"})
    assert "<html" in confirm.get_data(as_text=True)
    done = post(member_client, "/account/phone", {"new_phone": "0612345678"})
    assert done.status_code == 303 and done.headers["Location"] == "/account/phone/done"
    page = member_client.get("/account/phone/done").get_data(as_text=True)
    assert "連絡先電話番号変更完了" in page and "06-1234-5678" in page
    assert phone_of() == "0612345678"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "新しい日中のご連絡先電話番号を入力してください。"),
        ("0312", "電話番号の桁数が足りません。市外局番から、固定電話は10桁、携帯電話は11桁"),
        ("03-1234-567890", "電話番号の桁数が多すぎます。"),
        ("0120-123-456", "フリーダイヤル（0120・0800）の番号は登録できません。"),
        ("0800-123-4567", "フリーダイヤル（0120・0800）の番号は登録できません。"),
        ("050-1234-5678", "IP電話（050）の番号は登録できません。"),
        ("0570-123-456", "固定電話または携帯電話の番号を、市外局番から正しく入力してください。"),
        ("03-1234-567a", "市外局番から正しく入力してください"),
        ("+81312345678", "市外局番から正しく入力してください"),
        ("03-1234-5678", "現在の日中のご連絡先電話番号と同じです。"),
    ],
)
@pytest.mark.parametrize("headers", [HX, None])
def test_bad_input_is_explained_next_to_the_field(member_client, typed, message, headers):
    for url in ("/account/phone/confirm", "/account/phone"):
        response = post(member_client, url, {"new_phone": typed}, headers)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html and 'aria-invalid="true"' in html
        assert f'value="{typed}"' in html or not typed
    assert phone_of() == "0312345678"
    assert in_db(ChangeHistory.select().count) == 0


def test_back_keeps_the_typed_number(member_client):
    back = post(member_client, "/account/phone/edit", {"new_phone": "09012345678"}, HX)
    assert 'value="09012345678"' in back.get_data(as_text=True)


def test_cancel_returns_the_view_card(member_client):
    view = member_client.get("/account/phone/card", headers=HX).get_data(as_text=True)
    assert "03-1234-5678" in view and ">変更</a>" in view


def test_tampered_confirm_values_are_checked_again(member_client):
    response = post(member_client, "/account/phone", {"new_phone": "<script>alert(1)</script>"}, HX)
    assert response.status_code == 422
    assert "<script>alert" not in response.get_data(as_text=True)
    assert phone_of() == "0312345678"


def test_change_touches_only_the_logged_in_member(app, member_client):
    other = app.test_client()
    log_in(other, "hanako0002")
    post(other, "/account/phone", {"new_phone": "08011112222"})
    assert phone_of("hanako0002") == "08011112222"
    assert phone_of("taro0001") == "0312345678"


def test_steps_need_login(client):
    assert client.get("/account/phone").status_code == 303
    response = client.get("/account/phone", headers=HX)
    assert response.headers["HX-Redirect"].startswith("/login?next=")
