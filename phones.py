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
