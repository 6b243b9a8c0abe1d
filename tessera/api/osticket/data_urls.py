"""RFC 2397 `data:` URLs, as osTicket clients send them for messages and attachments.

osTicket reads one parameter reliably, assumes ISO-8859-1 without a charset and decodes bad
base64 leniently into garbage. Here every parameter is read, text without a charset is UTF-8
(ISO-8859-1 only when the bytes are not UTF-8), and base64 that does not decode is an error
the caller reports, never a file of garbage.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

_SPACE = re.compile(r"\s+")


class DataUrlError(ValueError):
    """The URL cannot be read; the message says why, for the client and the ticket."""


@dataclass(frozen=True)
class DataUrl:
    media_type: str  # lower-cased; "text/plain" when the URL names none (RFC 2397)
    charset: str  # lower-cased, "" when not given
    is_base64: bool
    payload: str  # everything after the first comma, as sent

    def content(self) -> bytes:
        """The bytes the URL carries. Text that is not base64 is encoded in its own charset."""
        if self.is_base64:
            return decode_base64(self.payload)
        charset = self.charset if known_charset(self.charset) else "utf-8"
        return self.payload.encode(charset, errors="replace")

    def text(self) -> str:
        """The URL's content as text: already text unless base64, then decoded by its charset."""
        if not self.is_base64:
            return self.payload
        return decode_text(self.content(), self.charset)


def is_data_url(value: str) -> bool:
    return value[:5].lower() == "data:"


def parse(value: str) -> DataUrl:
    if not is_data_url(value):
        raise DataUrlError(_("not a data: URL"))
    head, comma, payload = value[5:].partition(",")
    if not comma:
        raise DataUrlError(_("the data: URL has no comma before its content"))
    parts = [p.strip() for p in head.split(";")]
    media_type = parts[0].lower() or "text/plain"
    charset, is_base64 = "", False
    for part in parts[1:]:
        name, _eq, val = part.partition("=")
        if part.lower() == "base64":
            is_base64 = True
        elif name.strip().lower() == "charset":
            charset = val.strip().strip('"').lower()
    if "/" not in media_type or len(media_type) > 120:
        raise DataUrlError(_("“%(type)s” is not a media type") % {"type": media_type[:60]})
    return DataUrl(media_type=media_type, charset=charset, is_base64=is_base64, payload=payload)


def decode_base64(payload: str) -> bytes:
    """Strict base64 (whitespace and missing padding forgiven, nothing else)."""
    compact = _SPACE.sub("", payload)
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise DataUrlError(_("the base64 content does not decode")) from None


def decode_text(content: bytes, charset: str) -> str:
    if charset and known_charset(charset):
        return content.decode(charset, errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("iso-8859-1")


def known_charset(charset: str) -> bool:
    if not charset:
        return False
    try:
        codecs.lookup(charset)
    except LookupError:
        return False
    return True
