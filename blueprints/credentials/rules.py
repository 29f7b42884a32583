"""The rules for a new login ID and a new login password (SPEC §2.8, guide section 8).

Pure functions, no database and no HTTP: the checklist shown while typing and the final
validation run the very same rules. Character classes are spelt out as ASCII sets on purpose:
`str.isdigit`, `str.isalpha` and `\\d` also accept full-width and other Unicode characters.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hashing import verify_secret

SYMBOLS_TEXT = "# $ % ( ) * + - . / : ; ? @ [ ] _ { } ~"  # the guide's 20 symbols
SYMBOLS = frozenset(SYMBOLS_TEXT.split())
UPPER = frozenset(string.ascii_uppercase)
LOWER = frozenset(string.ascii_lowercase)
DIGITS = frozenset(string.digits)
ALLOWED = UPPER | LOWER | DIGITS | SYMBOLS

LOGIN_ID_LENGTH = (8, 31)
PASSWORD_LENGTH = (8, 32)
HISTORY_DEPTH = 3  # "not one of the last 3, the current one included"


def only_allowed_characters(value: str) -> bool:
    return set(value) <= ALLOWED


def length_between(value: str, low: int, high: int) -> bool:
    return low <= len(value) <= high


def has_letter_and_digit(value: str) -> bool:
    chars = set(value)
    return bool(chars & (UPPER | LOWER)) and bool(chars & DIGITS)


def kinds_of_characters(value: str) -> int:
    """How many of upper case, lower case, digit and symbol `value` mixes."""
    chars = set(value)
    return sum(bool(chars & kind) for kind in (UPPER, LOWER, DIGITS, SYMBOLS))


def overlaps(value: str, other: str) -> bool:
    """Either string contains the other, ignoring case; nothing overlaps an empty string.
    Checked both ways so "neither contains the other" holds whichever of the two changes."""
    if not value or not other:
        return False
    a, b = value.lower(), other.lower()
    return a in b or b in a


def login_id_reused(new_login_id: str, recent_keys: Iterable[str]) -> bool:
    """`recent_keys`: the lower-cased login IDs in force most recently, the current one first."""
    return new_login_id.lower() in list(recent_keys)[:HISTORY_DEPTH]


def password_reused(new_password: str, current_password: str, older_hashes: list[str]) -> bool:
    """`current_password` is the verified current password, so comparing it costs no hashing;
    the older ones are only kept as hashes: at most HISTORY_DEPTH - 1 argon2 verifications."""
    if new_password == current_password:
        return True
    return any(verify_secret(h, new_password) for h in older_hashes[: HISTORY_DEPTH - 1])


@dataclass(frozen=True)
class Rule:
    text: str  # the checklist line, as the guide words the condition
    message: str  # the error beside the field when it fails
    test: Callable[[str, str], bool]  # (new value, the other credential) -> rule met


def _characters_message(what: str) -> str:
    return f"{what}に使用できるのは、半角英数字と記号（{SYMBOLS_TEXT}）だけです。"


OVERLAP_MESSAGE = (
    "ログインIDとログインパスワードは、一方にもう一方と同じ文字列を含めることはできません。"
)

LOGIN_ID_RULES = (
    Rule(
        "半角英数字と記号20種類だけ",
        _characters_message("ログインID"),
        lambda v, _: only_allowed_characters(v),
    ),
    Rule(
        "8～31文字",
        "ログインIDは8～31文字で入力してください。",
        lambda v, _: length_between(v, *LOGIN_ID_LENGTH),
    ),
    Rule(
        "英字と数字が混在している",
        "ログインIDには英字と数字をそれぞれ1文字以上含めてください。",
        lambda v, _: has_letter_and_digit(v),
    ),
    Rule(
        "ログインパスワードを含まず、ログインパスワードに含まれない",
        OVERLAP_MESSAGE,
        lambda v, other: not overlaps(v, other),
    ),
)

PASSWORD_RULES = (
    Rule(
        "半角英数字と記号20種類だけ",
        _characters_message("ログインパスワード"),
        lambda v, _: only_allowed_characters(v),
    ),
    Rule(
        "8～32文字",
        "ログインパスワードは8～32文字で入力してください。",
        lambda v, _: length_between(v, *PASSWORD_LENGTH),
    ),
    Rule(
        "英大文字・英小文字・数字・記号のうち3種類以上",
        "ログインパスワードには英大文字・英小文字・数字・記号のうち3種類以上を含めてください。",
        lambda v, _: kinds_of_characters(v) >= 3,
    ),
    Rule(
        "ログインIDを含まず、ログインIDに含まれない",
        OVERLAP_MESSAGE,
        lambda v, other: not overlaps(v, other),
    ),
)

# Rules that need the database or the member's hashes: checked only on [更新], never while
# typing (the checklist must not tell whether an ID belongs to someone else).
LOGIN_ID_SUBMIT_RULES = (
    "他のお客様に使用されていない",
    "現在のログインIDを含めて過去3回以内に使用していない",
)
PASSWORD_SUBMIT_RULES = ("現在のログインパスワードを含めて過去3回以内に使用していない",)

LOGIN_ID_REUSED = "現在のログインIDを含めて過去3回以内に使用したログインIDは使用できません。"
PASSWORD_REUSED = (
    "現在のログインパスワードを含めて過去3回以内に使用したログインパスワードは使用できません。"
)
LOGIN_ID_TAKEN = "このログインIDは他のお客様が使用しているため、使用できません。"


def problems(rules: tuple[Rule, ...], value: str, other: str) -> list[str]:
    """The message of every rule `value` fails, in the rules' order."""
    return [rule.message for rule in rules if not rule.test(value, other)]


def checklist(rules: tuple[Rule, ...], value: str, other: str) -> list[tuple[str, bool]]:
    """(rule text, met) for each rule: the live checklist under the field."""
    return [(rule.text, rule.test(value, other)) for rule in rules]


def login_id_problems(new_login_id: str, password: str) -> list[str]:
    return problems(LOGIN_ID_RULES, new_login_id, password)


def password_problems(new_password: str, login_id: str) -> list[str]:
    return problems(PASSWORD_RULES, new_password, login_id)
