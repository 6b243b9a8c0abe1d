"""Cutting the quoted history off an emailed reply, so the thread shows what was new.

Pure functions on strings: ingest keeps the full original message and stores what this returns.
The reply marker in our own outbound mail is the reliable cut; the client patterns below are
the fallback for people who reply from the top of a forwarded copy or strip our marker.
The HTML cut works on raw client HTML and on HTML already sanitised (which has lost the class,
id and type attributes): the structural markers catch the first, the text patterns the second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from tessera.tickets.content import clean_html


@dataclass(frozen=True)
class Stripped:
    text: str
    html: str
    stripped: bool  # False: nothing was cut (or everything looked quoted, so the original was kept)


# "On <date>, <name> wrote:" and the same line in the languages our users' clients speak.
_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"On\b.{0,300}\bwrote\s*:"  # English (Gmail, Apple Mail, Thunderbird)
    r"|Am\b.{0,300}\bschrieb\b.{0,200}:"  # German
    r"|Le\b.{0,300}\ba\s+écrit\s*:"  # French
    r"|El\b.{0,300}\bescribió\s*:"  # Spanish
    r"|Op\b.{0,300}\bschreef\b.{0,200}:"  # Dutch
    r"|Il\b.{0,300}\bha\s+scritto\s*:"  # Italian
    r"|Em\b.{0,300}\bescreveu\s*:"  # Portuguese
    r")\s*$",
    re.I,
)
_ATTRIBUTION_START = re.compile(r"^\s*(On|Am|Le|El|Op|Il|Em)\b", re.I)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original"
    r"|Oorspronkelijk bericht|Messaggio originale)\s*-{2,}\s*$",
    re.I,
)
_FROM = re.compile(r"^\s*\*?(From|Von|De|Van|Da)\s*:\*?\s*\S", re.I)
_SENT = re.compile(r"^\s*\*?(Sent|Gesendet|Envoyé|Enviado|Verzonden|Inviato)(\s+el)?\s*:\*?", re.I)
_SEPARATOR = re.compile(r"^\s*_{20,}\s*$")


def _cut_line(lines: list[str], marker: str) -> int | None:
    """Index of the first line that starts the quoted history, None when there is none: the
    earlier of our quoted marker and a client's quote header (Outlook puts its
    "-----Original Message-----" or From:/Sent: block above the marker it quotes)."""
    marker = marker.strip().lower()
    at_marker = next((i for i, line in enumerate(lines) if marker and marker in line.lower()), None)
    by_client = _client_quote_line(lines[:at_marker] if at_marker is not None else lines)
    if at_marker is None:
        return by_client
    at_marker = _with_attribution(lines, at_marker)
    return at_marker if by_client is None else min(at_marker, by_client)


def _client_quote_line(lines: list[str]) -> int | None:
    """Index of the first line of a mail client's quoted history, None when there is none."""
    for i, line in enumerate(lines):
        plain = "" if line.startswith(">") else line.strip()
        if not plain:
            continue
        if _ATTRIBUTION.match(plain):
            return i
        if _ATTRIBUTION_START.match(plain) and i + 1 < len(lines):
            joined = plain + " " + lines[i + 1].strip()
            if _ATTRIBUTION.match(joined) and not _ATTRIBUTION.match(lines[i + 1].strip()):
                return i
        if _ORIGINAL.match(plain):
            return i
        if _FROM.match(plain) and any(_SENT.match(n) for n in lines[i + 1 : i + 4]):
            return i
        if _SEPARATOR.match(plain):
            following = [n for n in lines[i + 1 : i + 4] if n.strip()]
            if following and _FROM.match(following[0]):
                return i
    # A trailing block of "> " lines (the whole rest of the message is quotation).
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and (lines[start - 1].startswith(">") or not lines[start - 1].strip()):
        start -= 1
    while start < end and not lines[start].strip():
        start += 1
    if start < end and lines[start].startswith(">"):
        return start
    return None


def _with_attribution(lines: list[str], cut: int) -> int:
    """Our quoted marker sits under the client's "On … wrote:" line: cut that line too."""
    above = [j for j in range(max(0, cut - 4), cut) if lines[j].strip()]
    if above:
        last = lines[above[-1]].strip()
        if _ATTRIBUTION.match(last):
            return above[-1]
        if len(above) > 1 and _ATTRIBUTION.match(lines[above[-2]].strip() + " " + last):
            return above[-2]
    return cut


def strip_text(text: str, marker: str) -> str | None:
    """The reply without its quoted history; None when nothing looked quoted."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _cut_line(lines, marker)
    if cut is None:
        return None
    return "\n".join(lines[:cut]).rstrip()


# -- HTML -------------------------------------------------------------------------------------

_QUOTE_CLASSES = {"gmail_quote", "gmail_quote_container", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote"}
_QUOTE_IDS = {"divrplyfwdmsg", "appendonsend", "olk_src_body_section", "mail-editor-reference-message-container"}
_BLOCK = {"p", "div", "br", "blockquote", "hr", "li", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "pre"}


class _Cutter(HTMLParser):
    """Finds the source offset where the quoted history begins."""

    def __init__(self, source: str, marker: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_starts = [0]
        for match in re.finditer("\n", source):
            self.line_starts.append(match.end())
        self.marker = marker.strip().lower()
        self.cut: int | None = None
        self.blocks: list[tuple[int, str]] = []  # (offset where the block began, its text)
        self.block_start = 0
        self.block_text: list[str] = []
        self.last_blockquote: int | None = None
        self.depth_blockquote = 0
        self.after_blockquote_text = False

    def _at(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def close_block(self, at: int) -> None:
        text = re.sub(r"\s+", " ", "".join(self.block_text)).strip()
        if text:
            self.blocks.append((self.block_start, text))
        self.block_text = []
        self.block_start = at

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        at = self._at()
        attributes = {k.lower(): (v or "") for k, v in attrs}
        classes = set(attributes.get("class", "").lower().split())
        quoted = (
            classes & _QUOTE_CLASSES
            or attributes.get("id", "").lower() in _QUOTE_IDS
            or (tag == "blockquote" and attributes.get("type", "").lower() == "cite")
        )
        if quoted and self.cut is None:
            self.cut = at
        if tag in _BLOCK:
            self.close_block(at)
        if tag == "blockquote":
            if self.depth_blockquote == 0:
                self.last_blockquote = at
                self.after_blockquote_text = False
            self.depth_blockquote += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK:
            self.close_block(self._at())
        if tag == "blockquote":
            self.depth_blockquote = max(0, self.depth_blockquote - 1)

    def handle_data(self, data: str) -> None:
        if not self.block_text and not data.strip():
            return
        if not self.block_text:
            self.block_start = self._at()
        self.block_text.append(data)
        if self.depth_blockquote == 0 and data.strip():
            self.after_blockquote_text = True

    def result(self) -> int | None:
        self.close_block(len(self.source))
        texts = [t for _o, t in self.blocks]
        line = _cut_line(texts, self.marker) if texts else None
        candidates = [c for c in (self.cut,) if c is not None]
        if line is not None and not texts[line].startswith(">"):
            candidates.append(self.blocks[line][0])
        if self.last_blockquote is not None and not self.after_blockquote_text:
            candidates.append(self.last_blockquote)
        return min(candidates) if candidates else None


_EMPTY_TAIL = re.compile(r"(\s|<br>|<hr>|&nbsp;)+$")
_EMPTY_PAIR = re.compile(r"<(div|p|span|blockquote|b|strong|i|em|u|a)\b[^>]*>(\s|<br>|&nbsp;)*</\1>")


def strip_html(html: str, marker: str) -> str | None:
    """The HTML reply without its quoted history; None when nothing looked quoted."""
    if not html.strip():
        return None
    cutter = _Cutter(html, marker)
    try:
        cutter.feed(html)
        cutter.close()
    except Exception:
        return None
    cut = cutter.result()
    if cut is None:
        return None
    kept = clean_html(html[:cut])
    previous = None
    while previous != kept:
        previous = kept
        kept = _EMPTY_TAIL.sub("", kept)
        kept = _EMPTY_PAIR.sub("", kept)
    return kept.strip()


def _visible(html: str) -> bool:
    return bool(re.sub(r"<[^>]*>|&nbsp;|\s", "", html)) or "<img" in html


def strip_quoted(text: str, html: str, marker: str) -> Stripped:
    """Cut quoted history from both twins of a reply. When everything looked quoted (or the cut
    would leave nothing), the original is kept: an empty entry is worse than a long one."""
    new_text = strip_text(text, marker) if text.strip() else None
    new_html = strip_html(html, marker) if html.strip() else None
    if new_text is not None and not new_text.strip():
        return Stripped(text=text, html=html, stripped=False)
    if new_html is not None and not _visible(new_html):
        return Stripped(text=text, html=html, stripped=False)
    if new_text is None and new_html is None:
        return Stripped(text=text, html=html, stripped=False)
    return Stripped(
        text=new_text if new_text is not None else text,
        html=new_html if new_html is not None else html,
        stripped=True,
    )
