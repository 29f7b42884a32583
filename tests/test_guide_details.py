"""Small things a member notices (issue 12): ⑧ opens on the current setting and names it,
refused phone numbers say why, and the guide's placeholders are where the guide shows them."""

import re

import pytest

from models import Member

from .conftest import HX, in_db, post
from .test_email import apply


def checked(html: str) -> list[str]:
    return re.findall(
        r'<input[^>]*\bchecked\b[^>]*value="(on|off)"|<input[^>]*value="(on|off)"[^>]*\bchecked\b',
        html,
    )


@pytest.mark.parametrize(
    ("enabled", "current", "value"), [(False, "設定しない", "off"), (True, "設定する", "on")]
)
@pytest.mark.parametrize("headers", [HX, None])
def test_secret_auth_edit_starts_on_the_current_setting_and_names_it(
    member_client, enabled, current, value, headers
):
    in_db(lambda: Member.update(secret_auth_enabled=enabled).execute())
    html = member_client.get("/account/secret-auth", headers=headers).get_data(as_text=True)
    assert f"<p>現在の設定：{current}</p>" in html
    ticked = [a or b for a, b in checked(html)]
    assert ticked == [value]


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("0312", "電話番号の桁数が足りません。"),
        ("090-1234-56789", "電話番号の桁数が多すぎます。"),
    ],
)
def test_a_line_number_with_too_few_or_many_digits_says_so(member_client, typed, reason):
    html = post(member_client, "/account/lines/stage", {"number": typed}, HX).get_data(as_text=True)
    assert reason in html


def test_a_toll_free_line_is_still_a_line(member_client):
    # Billed lines may be toll-free (the registry has them): only the daytime phone refuses them.
    html = post(member_client, "/account/lines/stage", {"number": "0120-123-456"}, HX).get_data(
        as_text=True
    )
    assert "フリーダイヤル" not in html


def test_the_line_screen_has_the_guides_placeholders(member_client):
    html = member_client.get("/account/lines").get_data(as_text=True)
    assert '<option selected value="">対象回線を選択してください</option>' in html or (
        '<option value="">対象回線を選択してください</option>' in html
    )
    assert 'placeholder="例：09000000000"' in html


def test_the_mailed_link_page_has_the_guides_answer_placeholder(member_client, client):
    link = apply(member_client)
    html = client.get(link).get_data(as_text=True)
    assert 'placeholder="秘密の質問の回答を入力してください"' in html
