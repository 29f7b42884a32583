"""The login ID / password rules (SPEC §2.8) one by one, without HTTP."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blueprints.credentials import rules
from blueprints.credentials.rules import (
    checklist,
    has_letter_and_digit,
    kinds_of_characters,
    length_between,
    login_id_problems,
    login_id_reused,
    only_allowed_characters,
    overlaps,
    password_problems,
    password_reused,
)
from hashing import hash_secret

GUIDE_SYMBOLS = "#$%()*+-./:;?@[]_{}~"


def test_the_guide_has_exactly_20_symbols():
    assert len(rules.SYMBOLS) == 20 and set(GUIDE_SYMBOLS) == rules.SYMBOLS


@pytest.mark.parametrize("symbol", list(GUIDE_SYMBOLS))
def test_each_of_the_20_symbols_is_allowed_in_both(symbol):
    assert only_allowed_characters(f"abcd123{symbol}")
    assert login_id_problems(f"abcd123{symbol}", "") == []
    assert password_problems(f"Abcd123{symbol}", "") == []


@pytest.mark.parametrize(
    "bad",
    ["!", "&", "'", '"', "=", "^", "|", "\\", "`", ",", "<", ">", " ", "\t", "\n", "\x00", "€"],
)
def test_any_other_symbol_is_refused(bad):
    assert not only_allowed_characters(f"abcd123{bad}")
    assert "半角英数字と記号" in login_id_problems(f"abcd123{bad}", "")[0]
    assert "半角英数字と記号" in password_problems(f"Abcd123{bad}", "")[0]


@pytest.mark.parametrize(
    "full_width",
    ["ａｂｃｄ１２３４", "abcd１２３４", "ABCDabcd１", "abcd123＃", "あいうえ1234", "abcd1234　"],
)
def test_full_width_and_other_unicode_letters_and_digits_are_refused(full_width):
    assert not only_allowed_characters(full_width)
    assert login_id_problems(full_width, "")  # e.g. "１".isdigit() is True: not used here
    assert password_problems(full_width, "")


def test_unicode_digits_do_not_count_as_digits():
    assert "٣".isdigit() and "１".isdigit()  # why the rules use explicit ASCII sets
    assert not has_letter_and_digit("abcdefg١")
    assert kinds_of_characters("abcdefg１") == 1


@pytest.mark.parametrize(
    ("length", "ok"), [(7, False), (8, True), (31, True), (32, False), (33, False)]
)
def test_login_id_length(length, ok):
    login_id = ("a1" * 20)[:length]
    assert length_between(login_id, 8, 31) is ok
    assert (
        "ログインIDは8～31文字で入力してください。" not in login_id_problems(login_id, "")
    ) is ok


@pytest.mark.parametrize(
    ("length", "ok"), [(7, False), (8, True), (31, True), (32, True), (33, False)]
)
def test_password_length(length, ok):
    password = ("Ab1#" * 10)[:length]
    assert length_between(password, 8, 32) is ok
    message = "ログインパスワードは8～32文字で入力してください。"
    assert (message not in password_problems(password, "")) is ok


@pytest.mark.parametrize(
    ("login_id", "ok"),
    [
        ("abcdefgh", False),
        ("12345678", False),
        ("########", False),
        ("abcdefg1", True),
        ("1234567A", True),
        ("a#######1", True),
    ],
)
def test_login_id_needs_a_letter_and_a_digit(login_id, ok):
    assert has_letter_and_digit(login_id) is ok
    message = "ログインIDには英字と数字をそれぞれ1文字以上含めてください。"
    assert (message not in login_id_problems(login_id, "")) is ok


@pytest.mark.parametrize(
    ("password", "kinds"),
    [
        ("abcdefgh", 1),
        ("abcd1234", 2),
        ("ABCD####", 2),
        ("Abcd1234", 3),
        ("abcd12##", 3),
        ("ABCD12##", 3),
        ("ABcd####", 3),
        ("Ab1#Ab1#", 4),
    ],
)
def test_password_needs_3_of_4_kinds(password, kinds):
    assert kinds_of_characters(password) == kinds
    message = "英大文字・英小文字・数字・記号のうち3種類以上"
    assert any(message in p for p in password_problems(password, "")) is (kinds < 3)


@pytest.mark.parametrize(
    ("login_id", "password", "overlap"),
    [
        ("taro0001", "Taro0001#", True),  # the password contains the ID, ignoring case
        ("xxTARO0001#xx", "Taro0001#", True),  # the ID contains the password
        ("taro0001", "TARO0001", True),
        ("taro0001", "Taro0002#", False),
        ("taro0001", "", False),  # nothing to compare yet
    ],
)
def test_neither_contains_the_other_ignoring_case(login_id, password, overlap):
    assert overlaps(login_id, password) is overlap
    assert overlaps(password, login_id) is overlap
    assert (rules.OVERLAP_MESSAGE in login_id_problems(login_id, password)) is overlap
    if password:
        assert (rules.OVERLAP_MESSAGE in password_problems(password, login_id)) is overlap


def test_every_failing_rule_is_reported_at_once():
    assert login_id_problems("ａ", "") == [rule.message for rule in rules.LOGIN_ID_RULES[:3]]
    assert len(password_problems("aro！", "taro！0001")) == 4  # all four rules fail


def test_login_id_history_is_the_last_3_including_the_current_one():
    recent = ["current1", "previous2", "previous3", "fourth04"]  # newest first
    assert login_id_reused("CURRENT1", recent)
    assert login_id_reused("previous3", recent)
    assert not login_id_reused("fourth04", recent)  # the 4th-oldest may be used again
    assert not login_id_reused("brandnew1", recent)


def test_password_history_compares_through_the_hashes():
    older = [hash_secret("Second#22"), hash_secret("Third#333"), hash_secret("Fourth#44")]
    assert password_reused("Current#1", "Current#1", older)
    assert password_reused("Second#22", "Current#1", older)
    assert password_reused("Third#333", "Current#1", older)
    assert not password_reused("Fourth#44", "Current#1", older)  # 4th-oldest: allowed again
    assert not password_reused("current#1", "Current#1", older)  # passwords keep their case


def test_checklist_marks_each_rule_met_or_not():
    items = checklist(rules.PASSWORD_RULES, "Abcdefg1", "taro0001")
    assert [met for _, met in items] == [True, True, True, True]
    items = checklist(rules.LOGIN_ID_RULES, "taro", "")
    assert [met for _, met in items] == [True, False, False, True]


# No deadline: CI runs the suite twice at once on 2 cores, and a slow example is not a bug here.
@settings(deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_random_text_never_crashes_the_validators(value, other):
    for found in (login_id_problems(value, other), password_problems(value, other)):
        assert isinstance(found, list) and all(isinstance(m, str) for m in found)
    assert len(checklist(rules.LOGIN_ID_RULES, value, other)) == len(rules.LOGIN_ID_RULES)
    assert isinstance(login_id_reused(value, [other]), bool)
    if only_allowed_characters(value):
        assert value.isascii()
