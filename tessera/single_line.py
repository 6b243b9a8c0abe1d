"""Single-line text (subjects, people's names) that may end up in a mail header.

Why this exists: an RFC 2047 encoded word is how mail carries non-ASCII text in a header, and it
can carry anything, CR and LF included ("=?utf-8?q?Hi=0D=0ABcc=3A_x=40evil?="). Python's email
package decodes such words when Tessera builds a notice, and CPython before 3.12.5 then wrote the
line breaks out as new header lines (CVE-2024-6923): text typed into the portal became a Bcc on
the desk's own mail. Whatever the interpreter, text that reaches a header must hold no encoded
word and no line break, and this is the one rule for that.

The choice: decode, then flatten. An encoded word in a form field or a decoded mail subject is
transport encoding that leaked (or an attack); the person meant its text. So `single_line`
decodes encoded words, again and again while the text changes (a doubly encoded subject is
decoded twice), turns every control character and line or paragraph separator into a space,
collapses runs of whitespace, and then breaks the `=?` of anything still shaped like an encoded
word into `= ?`, so no later decoder (ours, Python's, a mail client's) can find one. The result
stays readable ("Invoice overdue Reply-To: billing@…") and is safe in any header, and agents see
what the attacker tried instead of an opaque string. Breaking only the marker, without decoding,
would be just as safe but would leave people reading "=?utf-8?q?…".

`line_break_in` is the outbound check: does a header value hold a line break, raw or once any
number of encoded words are decoded? Outbound mail refuses such a value (tessera.mail.message).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# An encoded word as the most lenient decoder (Python's email.header) accepts it:
# =?charset[*language]?B|Q?text?= , the text possibly holding "?".
_ENCODED_WORD = re.compile(r"=\?([^?]*)\?([bBqQ])\?(.*?)\?=", re.S)
# The start of anything a decoder could take for an encoded word (the text part may be damaged).
MARKER = re.compile(r"=\?(?=[^?]*\?[bBqQ]\?)")
# Control characters (Unicode Cc: C0, DEL, C1 with NEL) and the line and paragraph separators.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# What ends a header line somewhere: CR, LF, NUL and everything str.splitlines() breaks on.
_LINE_BREAK = re.compile(r"[\r\n\x00\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
MAX_ROUNDS = 8


def _codec(charset: str) -> str:
    name = charset.split("*", 1)[0].strip().lower()
    try:
        return codecs.lookup(name).name if name else "utf-8"
    except (LookupError, ValueError):
        return "utf-8"


def _decode_word(match: re.Match[str]) -> str:
    charset, encoding, text = match.groups()
    try:
        if encoding in "qQ":
            data = re.sub(
                rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), text.replace("_", " ").encode()
            )
        else:
            data = re.sub(rb"[^A-Za-z0-9+/]", b"", text.encode())
            data = base64.b64decode(data + b"=" * (-len(data) % 4))
        return data.decode(_codec(charset), "replace")
    except (binascii.Error, UnicodeEncodeError, ValueError, LookupError):
        return match.group(0)  # not decodable: left for the marker to be broken


def decode_words(text: str) -> str:
    """One round of RFC 2047 decoding: each encoded word replaced by its text."""
    if "=?" not in text:
        return text
    out: list[str] = []
    end = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[end : match.start()]
        if not (out and end and gap.isspace()):  # whitespace between two words is not text (RFC 2047 §6.2)
            out.append(gap)
        out.append(_decode_word(match))
        end = match.end()
    out.append(text[end:])
    return "".join(out)


def break_markers(text: str) -> str:
    """`=?` of every encoded-word shape becomes `= ?`: readable, and no decoder's encoded word."""
    return MARKER.sub("= ?", text)


def single_line(value: Any) -> str:
    """The text as one safe, readable line: encoded words decoded (repeatedly), control
    characters and line separators made spaces, whitespace collapsed, leftover markers broken."""
    text = "" if value is None else str(value)
    for _round in range(MAX_ROUNDS):
        decoded = decode_words(text)
        if decoded == text:
            break
        text = decoded
    text = _UNSAFE.sub(" ", text)
    text = break_markers(text)
    return re.sub(r"\s+", " ", text).strip()


def line_break_in(value: str) -> bool:
    """True when the header value holds a line break (or NUL) as it is or once decoded, to any depth."""
    text = value
    for _round in range(MAX_ROUNDS + 1):
        if _LINE_BREAK.search(text):
            return True
        decoded = decode_words(text)
        if decoded == text:
            return False
        text = decoded
    return True  # still changing after every round a neutralised value needs: not something Tessera wrote


def has_encoded_word(value: str) -> bool:
    return MARKER.search(value or "") is not None


def validate_no_encoded_word(value: str) -> None:
    """For email addresses: a local part may legally hold "=?…?=", and decoders then read a
    header (with any line breaks) out of it. Nobody's real address looks like that."""
    if has_encoded_word(value):
        raise ValidationError(_("Enter a valid email address."), code="invalid")


class SingleLineField(forms.CharField):
    """A CharField for subjects and names: cleaned with `single_line`, so what the person typed
    stays readable and can never become a mail header (max_length counts the cleaned text)."""

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)  # None when the field's empty_value is None
        return single_line(text) if text not in self.empty_values else text
