"""Phone numbers as people type them on a phone: full-width digits, hyphens, spaces."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

# Hyphen-like characters Japanese keyboards produce, besides "-" (after NFKC).
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー－()（）]")
_PERSONAL_TYPES = {
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def to_digits(text: str) -> str:
    """Full-width digits become half-width and separators go; anything else stays, so a
    stray letter still makes the number invalid."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))


def _parse(digits: str):
    if not re.fullmatch(r"0\d{9,10}", digits):
        return None
    try:
        number = phonenumbers.parse(digits, "JP")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


# Why a number is refused, when there is more to say than "enter it correctly".
DIGITS = "市外局番から、固定電話は10桁、携帯電話は11桁で入力してください。"
TOO_SHORT = "電話番号の桁数が足りません。" + DIGITS
TOO_LONG = "電話番号の桁数が多すぎます。" + DIGITS
OTHERS = "固定電話または携帯電話の番号を入力してください。"
TOLL_FREE = "フリーダイヤル（0120・0800）の番号は登録できません。" + OTHERS
IP_PHONE = "IP電話（050）の番号は登録できません。" + OTHERS
_TYPE_REASONS = {PhoneNumberType.TOLL_FREE: TOLL_FREE, PhoneNumberType.VOIP: IP_PHONE}


def reason(text: str, *, personal: bool) -> str | None:
    """Why `text` is refused, if the reason is one of those above; None otherwise (the form
    then says its own general message). `personal`: the daytime phone (fixed or mobile only)
    rather than a billed line (any valid number, toll-free included)."""
    digits = to_digits(text)
    if digits.isascii() and digits.isdigit() and digits.startswith("0"):
        if len(digits) < 10:
            return TOO_SHORT
        if len(digits) > 11:
            return TOO_LONG
    number = _parse(digits)
    if personal and number is not None:
        return _TYPE_REASONS.get(phonenumbers.number_type(number))
    return None


def personal_number(text: str) -> str | None:
    """The digits of a valid Japanese fixed or mobile number, else None."""
    digits = to_digits(text)
    number = _parse(digits)
    if number is None or phonenumbers.number_type(number) not in _PERSONAL_TYPES:
        return None
    return digits


def any_number(text: str) -> str | None:
    """The digits of any valid Japanese number (the line registry has toll-free lines too)."""
    digits = to_digits(text)
    return digits if _parse(digits) is not None else None


# Parsing costs ~50 µs a number; the line screen shows up to 200 of them.
@lru_cache(maxsize=8192)
def display(digits: str | None) -> str:
    """03-1234-5678 style, for showing a stored number."""
    number = _parse(digits or "")
    if number is None:
        return digits or ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
