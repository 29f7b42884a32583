"""Contact addresses as members type them, apart from HTTP."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def normalize_email(text: str) -> str | None:
    """The address to store and send to, or None if it is not one.

    No DNS lookup (an intranet server may have none). Non-ASCII before the "@" is refused:
    not every mail server accepts it. A full-width domain is folded to ASCII and an
    internationalised one kept as punycode, so Flask-Mail can always send to it.
    """
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return result.ascii_email


def mask_email(address: str) -> str:
    """For 変更履歴 and notices: t***@example.com."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"
