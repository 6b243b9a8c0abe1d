"""What the desk accepts as a phone number, for a person's details and for phone custom fields.

Digits and the usual separators, with an optional extension written as osTicket writes it
("X123") or as people type it ("x 123", "ext. 123"). No letters otherwise, so a number is never
a place to hide markup or a link.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy

MAX_LENGTH = 40

PHONE = RegexValidator(
    r"^\+?[0-9 ()./-]{3,40}(?:\s*(?:[xX]|[eE][xX][tT]\.?)\s*[0-9]{1,8})?$",
    gettext_lazy("Enter a phone number: digits, spaces, + ( ) . - and an optional extension."),
    code="phone",
)


def is_phone(text: str) -> bool:
    """Whether `text` (already stripped) is a number the desk would accept and can store."""
    if not text or len(text) > MAX_LENGTH:
        return False
    try:
        PHONE(text)
    except Exception:  # ValidationError: the validator's only refusal
        return False
    return True
