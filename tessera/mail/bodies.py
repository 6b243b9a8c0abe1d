"""Message bodies between text and HTML: format=flowed text, and mail HTML made safe for the
timeline (inline cid: images kept, remote images reduced to their alt text). The text twin of an
HTML-only message is tickets.content.html_to_text, shared with every other HTML source."""

from __future__ import annotations

import re
from html import escape

from tessera.tickets.content import clean_html


def unflow(text: str, delsp: bool = False) -> str:
    """Undo format=flowed (RFC 3676, Thunderbird and Apple Mail): soft line breaks (a line ending
    in a space) join the next line of the same quote depth, so paragraphs read as written."""
    out: list[str] = []
    buffer: str | None = None
    buffer_depth = 0

    def flush() -> None:
        out.append(">" * buffer_depth + (" " if buffer_depth else "") + (buffer or ""))

    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        body = line[depth:]
        if body.startswith(" "):
            body = body[1:]  # space-stuffing
        soft = body.endswith(" ") and body != "-- "
        if soft and delsp:
            body = body[:-1]
        if buffer is not None and depth != buffer_depth:
            flush()
            buffer = None
        if buffer is None:
            buffer, buffer_depth = body, depth
        else:
            buffer += body
        if not soft:
            flush()
            buffer = None
    if buffer is not None:
        flush()
    return "\n".join(out)


# -- HTML ------------------------------------------------------------------------------------

DATA_IMAGE = re.compile(
    r"""src\s*=\s*(?P<q>["']?)data:(?P<type>image/[a-z0-9.+-]+);base64,(?P<data>[A-Za-z0-9+/=\s]+)(?P=q)""", re.I
)
_IMG = re.compile(r"<img\b[^>]*>", re.I)
_SRC = re.compile(r'\ssrc="([^"]*)"', re.I)
_ALT = re.compile(r'\salt="([^"]*)"', re.I)


def sanitise_html(raw: str) -> str:
    """The thread-entry sanitiser, plus remote images reduced to their alt text (no tracking)."""

    def neutralise(match: re.Match[str]) -> str:
        tag = match.group(0)
        src = _SRC.search(tag)
        if src and src.group(1).lower().startswith("cid:"):
            return tag
        alt = _ALT.search(tag)
        return f"[{alt.group(1)}]" if alt and alt.group(1).strip() else ""

    return _IMG.sub(neutralise, clean_html(raw)).strip()


def text_to_html(text: str) -> str:
    """Plain text shown next to HTML segments: escaped, line breaks kept."""
    if not text:
        return ""
    paragraphs = re.split(r"\n\s*\n", text)
    return "".join("<p>" + escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


# -- auto replies and bounces ----------------------------------------------------------------
