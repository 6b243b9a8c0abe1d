"""Turning what people type or send into safe HTML with a plain-text twin.

Sanitising happens once, on the way in; templates then trust body_html.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from html.parser import HTMLParser
from typing import Any

import nh3
from markdown_it import MarkdownIt

from tessera.single_line import decode_words, single_line

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def clean_html(raw: str) -> str:
    """Keep formatting, drop anything that could run or phone home."""
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
        # Dropped with their text: a mail's <head> title and styles are not part of the message.
        clean_content_tags={"script", "style", "title"},
    )


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
    """A readable plain-text twin of an HTML body (mail, rich editors): blocks become lines, list
    items dashes, links keep their address."""
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


# One line of prose that no Markdown rule reads. It starts with a letter (or any character beyond
# ASCII: every block marker is ASCII) or with digits not followed by "." or ")" (an ordered list),
# so never with a space, a tab or a block marker (# > - + * = _ ` ~ < [ |). It goes on with
# letters, digits, spaces and punctuation that opens nothing inline (no * _ ` ~ [ ] < \ { } ^ |,
# no tab or control character), with "&" only where no entity can follow it. Characters beyond
# ASCII pass here and are judged by their Unicode category in _plain_text_html.
_LINE_START = r"(?:[A-Za-z\x80-\U0010ffff]|[0-9]+(?![0-9.)]))"
_LINE_REST = r"(?:[A-Za-z0-9 !\"'(),./:;?@#$%+=>\-\x80-\U0010ffff]|&(?![^ \n]))*"
_PLAIN_TEXT = re.compile(rf"(?:{_LINE_START}{_LINE_REST})?(?:\n(?:{_LINE_START}{_LINE_REST})?)*")
_BLANK_LINES = re.compile(r"\n\n+")


def _plain_text_html(text: str) -> str | None:
    """The HTML from_text's full path would give for text that has no Markdown in it, or None.

    Most first messages (integrations, monitoring, mail-less clients) are plain sentences, and
    parsing them with markdown-it and sanitising the result was most of from_text's cost on the
    ticket-creation path (issue 13). For text made only of lines _PLAIN_TEXT admits (a whitelist:
    anything else takes the full path) with no space before a line break (Markdown drops one and
    reads two as a hard break), Markdown makes paragraphs at blank lines and, with breaks on,
    "<br />" at every other line break, and escapes "&", ">" and '"'; nh3 then writes "<br>" and
    puts '"' back. Beyond ASCII only letters, marks, numbers, punctuation and symbols pass: no
    space (U+00A0 would come back as "&nbsp;", and strip() and Markdown trim others), no control,
    format, surrogate, private or unassigned code point.

    What comes out holds only <p>, <br> and text with "&" and ">" escaped ("<" is never admitted),
    so skipping nh3 is safe; tests/tickets/test_plain_text_fast_path.py checks, over generated and
    exhaustive inputs, that it is byte for byte what markdown-it and nh3 return.
    """
    if not _PLAIN_TEXT.fullmatch(text) or " \n" in text:
        return None
    if not text.isascii() and any(
        unicodedata.category(char)[0] not in "LMNPS" for char in set(text) if not char.isascii()
    ):
        return None
    if not text:
        return ""
    escaped = text.replace("&", "&amp;").replace(">", "&gt;")
    return "".join(f"<p>{'<br>\n'.join(paragraph.split('\n'))}</p>\n" for paragraph in _BLANK_LINES.split(escaped))


def from_text(text: str) -> tuple[str, str]:
    """Typed text (Markdown allowed, raw HTML shown as text) → (safe html, text)."""
    text = text.replace("\r\n", "\n").strip()
    plain = _plain_text_html(text)
    return (clean_html(_markdown.render(text)) if plain is None else plain), text


def from_html(raw: str) -> tuple[str, str]:
    """HTML from outside (email, rich editors) → (safe html, text)."""
    safe = clean_html(raw)
    return safe, html_to_text(safe)


def clean_line(text: str) -> str:
    """A one-line field such as a subject: plain text with no markup, no control characters, single spaces.

    Tags are stripped and entities decoded until nothing changes, so "&lt;script&gt;" cannot
    come back to life as "<script>" after decoding; a stray "<" or "&" in prose survives as text.
    RFC 2047 encoded words are decoded in the same loop (either may hide the other) and the
    result follows tessera.single_line, so a subject can never become a mail header.
    """
    text = text or ""
    # Most subjects and names are printable ASCII with no "<", ">", "&" or "=": nothing for the
    # loop to strip or decode (it would hand them back unchanged), and every API ticket has one.
    return single_line(text if _PLAIN_LINE.fullmatch(text) else _strip_markup(text))


# Printable ASCII but "&", "<", "=" and ">": no tag, no entity, no encoded word can start.
_PLAIN_LINE = re.compile(r"[\x20-\x25\x27-\x3b\x3f-\x7e]*")


def _strip_markup(text: str) -> str:
    for _round in range(8):
        cleaned = decode_words(html.unescape(nh3.clean(text, tags=set())))
        if cleaned == text:
            return text
        text = cleaned
    # Pathologically nested escaping: keep the words, drop what could still be markup.
    return text.replace("<", "").replace(">", "")


def link_inline_images(body_html: str, files: Iterable[Any], url: Callable[[Any], str]) -> tuple[str, set[int]]:
    """Point an email's inline images (src="cid:…", kept by the sanitiser) at the attachments
    stored for them, so they show where the sender put them. Returns the HTML and the ids of
    the attachments now shown in the body (lists of files need not repeat them)."""
    shown: set[int] = set()
    if "cid:" not in body_html:
        return body_html, shown
    for file in files:
        cid = getattr(file, "content_id", "")
        if not cid:
            continue
        needle = f'src="cid:{html.escape(cid, quote=True)}"'
        if needle in body_html:
            body_html = body_html.replace(needle, f'src="{html.escape(url(file), quote=True)}"')
            shown.add(file.pk)
    return body_html, shown
