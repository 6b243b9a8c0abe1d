"""Message bodies between text and HTML: format=flowed text, mail HTML made safe for the
timeline (inline cid: images kept, remote images reduced to their alt text), and the text twin of
an HTML-only message."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

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


_BLOCKS = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "tr", "blockquote", "pre", "hr",
    "section", "article", "header", "footer", "address", "center", "dl", "dt", "dd",
}  # fmt: skip


class _TextTwin(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pre = 0
        self.skip = 0
        self.href: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("style", "script", "head", "title"):
            self.skip += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag == "img" and attributes.get("alt"):
            self.out.append(f"[{attributes['alt']}]")
        elif tag in _BLOCKS:
            self.out.append("\n\n" if tag in ("p", "blockquote", "h1", "h2", "h3", "table") else "\n")
            if tag == "pre":
                self.pre += 1
            if tag == "hr":
                self.out.append("----\n")
        if tag == "a":
            self.href.append(attributes.get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCKS:
            self.out.append("\n\n" if tag in ("p", "blockquote", "h1", "h2", "h3", "table") else "\n")
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href and href.startswith(("http://", "https://")) and href not in "".join(self.out[-3:]):
                self.out.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.out.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(fragment: str) -> str:
    """A readable plain-text twin of an HTML body: blocks become lines, links keep their address."""
    parser = _TextTwin()
    try:
        parser.feed(fragment)
        parser.close()
    except Exception:
        return re.sub(r"<[^>]*>", "", fragment)
    text = "".join(parser.out).replace("\xa0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n (?=\S)", "\n", text)  # the space left by collapsing the source's line breaks
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def text_to_html(text: str) -> str:
    """Plain text shown next to HTML segments: escaped, line breaks kept."""
    if not text:
        return ""
    paragraphs = re.split(r"\n\s*\n", text)
    return "".join("<p>" + escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


# -- auto replies and bounces ----------------------------------------------------------------
