"""Decoding what mail clients send: bodies and headers in any charset, declared or not.

Labels are often wrong (GB2312 that is really GB18030, Latin-1 that is really windows-1252) and
headers arrive as RFC 2047 words or raw 8-bit bytes; everything here returns str and never
raises, falling back through UTF-8, windows-1252 and Latin-1.
"""

from __future__ import annotations

import codecs
import email.header
import re

# Declared charsets that real senders use for a superset; decoding with the superset loses nothing.
_CHARSET_UPGRADES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "",  # 8-bit bytes under an ASCII label: guess (UTF-8, then windows-1252)
    "ascii": "",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "x-mac-roman": "mac_roman",
    "unknown-8bit": "",
    "x-unknown": "",
    "unknown": "",
    "x-user-defined": "",
    "default": "",
}


def _codec(charset: str | None) -> str:
    """The Python codec for a declared charset, "" when it is missing or unknown."""
    name = (charset or "").strip().strip("\"'").lower()
    name = _CHARSET_UPGRADES.get(name, name)
    if not name:
        return ""
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return ""


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Bytes to text whatever the label says: the declared charset when it fits, else UTF-8,
    else windows-1252, else latin-1 (which cannot fail), so a wrong label never loses the words."""
    codec = _codec(charset)
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec and codec not in ("cp1252", "latin-1", "iso8859-1"):
        # A multi-byte charset with one damaged sequence: keep the rest readable.
        try:
            return data.decode(codec, errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def raw_header_bytes(value: str) -> bytes:
    """The parser keeps undeclared 8-bit header bytes as surrogates; get them back as bytes."""
    return value.encode("utf-8", "surrogateescape")


def header_text(value: str) -> str:
    """A header value as readable text: RFC 2047 encoded words decoded in any charset,
    raw 8-bit bytes decoded by guess, folding undone."""
    value = decode_bytes(raw_header_bytes(value)) if any("\udc80" <= c <= "\udcff" for c in value) else value
    try:
        chunks = email.header.decode_header(value)
    except Exception:
        chunks = [(value, None)]
    out = []
    for chunk, charset in chunks:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    text = "".join(out)
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def tidy(value: str) -> str:
    """Strings that PostgreSQL can store: no NUL, no lone surrogates."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
