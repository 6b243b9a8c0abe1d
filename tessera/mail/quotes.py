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


# "On <date>, <name> wrote:" as the clients of the ten languages our users write in put it. The
# patterns run on a header already joined from its wrapped lines (clients wrap long ones, often
# inside the address: `… "bob@example.org" <` / `bob@example.org> написал:`).
_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"On\b.{0,300}\bwrote\s*:"  # English (Gmail, Apple Mail, Thunderbird)
    r"|Am\b.{0,300}\bschrieb\b.{0,200}:"  # German
    r"|Le\b.{0,300}\ba\s+écrit\s*:"  # French
    r"|El\b.{0,300}\bescribió\s*:"  # Spanish
    r"|Op\b.{0,300}\bschreef\b.{0,200}:"  # Dutch
    r"|Il\b.{0,300}\bha\s+scritto\s*:"  # Italian
    r"|Em\b.{0,300}\bescreveu\s*:"  # Portuguese
    r"|W\s+dniu\b.{0,300}\b(?:pisze|napisał(?:\(a\)|a)?)\s*:"  # Polish (Thunderbird)
    r"|在.{0,300}写道\s*[:：]"  # Chinese (Apple Mail)
    r"|\*\s.{0,300}\[\d[^\]]{0,60}\]\s*:"  # mutt: "* Name <address> [date]:"
    r")\s*$",
    re.I,
)
# Where the verb comes last, after the date and the name, with nothing fixed at the start.
_ATTRIBUTION_VERB_LAST = re.compile(
    r"^.{0,400}(?:"
    r"\bnapisał(?:\(a\)|a)?"  # Polish (Gmail)
    r"|(?:написал(?:\(а\)|а)?|пишет)"  # Russian (Gmail, Thunderbird, Yandex, Mail.ru)
    r"|(?:写道|寫道)"  # Chinese (Gmail, Outlook)
    r"|(?:のメール|のメッセージ|は書きました)"  # Japanese (Apple Mail, Thunderbird)
    r")\s*[:：]\s*$",
    re.I,
)
# Gmail in Russian and Japanese writes only "<date> <time>, <name> <address>:".
_ATTRIBUTION_BARE = re.compile(r"^.{0,300}\d{1,2}:\d{2}.{0,300}<\s*[^<>\s]+@[^<>\s]+\s*>\s*[:：]\s*$")
# Part of a header's address ("Name <a@b>", or an address wrapped after its "<"): a customer's
# sentence does not hold one, so a header may start on such a line even when its end alone,
# on the next line, would also read as a header.
_ADDRESS_PART = re.compile(r"<\s*[^<>\s]*@|<\s*$")
# A header names when: without a digit, "… wrote:" is a sentence, not a header.
_HAS_DATE = re.compile(r"\d")
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original"
    r"|Oorspronkelijk bericht|Messaggio originale|Исходное сообщение|Wiadomość oryginalna"
    r"|Mensagem original|元のメッセージ|原始邮件)\s*-{2,}\s*$",
    re.I,
)
_FROM = re.compile(r"^\s*\*?(From|Von|De|Van|Da|Od|От|差出人|发件人|寄件者)\s*[:：]\*?\s*\S", re.I)
_SENT = re.compile(
    r"^\s*\*?(Sent|Date|Gesendet|Envoyé|Enviado|Enviada|Verzonden|Inviato|Wysłano|Отправлено|送信日時|发送时间|寄件日期)"
    r"(\s+el)?\s*[:：]\*?",
    re.I,
)
_SEPARATOR = re.compile(r"^\s*_{20,}\s*$")
# How many lines a wrapped attribution may take.
_WRAPPED_LINES = 3


def _is_attribution(text: str, *, quote_follows: bool) -> bool:
    """Whether one (joined) line is a client's "On … wrote:" header. The looser shapes count only
    when a quotation follows, so a customer's own "I wrote:" never becomes a cut."""
    if not _HAS_DATE.search(text):
        return False
    if _ATTRIBUTION.match(text):
        return True
    return quote_follows and bool(_ATTRIBUTION_VERB_LAST.match(text) or _ATTRIBUTION_BARE.match(text))


def _quote_follows(lines: list[str], after: int) -> bool:
    following = next((line for line in lines[after:] if line.strip()), None)
    return following is not None and following.startswith(">")


def _attribution_at(lines: list[str], i: int, *, quote_follows: bool | None = None) -> int | None:
    """The number of lines the attribution starting at line i takes (1 to 3), None when none does.
    A longer join counts only when no attribution starts on a later line inside it: joining the
    customer's last sentence to the header below it must never make that sentence a cut.
    `quote_follows`: known from the HTML structure (a blockquote), or None to look for "> " lines."""

    def found(start: int, count: int) -> bool:
        chunk = lines[start : start + count]
        if len(chunk) < count or any(not c.strip() or c.startswith(">") for c in chunk):
            return False
        joined = " ".join(c.strip() for c in chunk)
        follows = _quote_follows(lines, start + count) if quote_follows is None else quote_follows
        return _is_attribution(joined, quote_follows=follows)

    for count in range(1, _WRAPPED_LINES + 1):
        if found(i, count):
            later = next((k for k in range(i + 1, i + count) for n in range(1, i + count - k + 1) if found(k, n)), None)
            if later is not None and not any(_ADDRESS_PART.search(line) for line in lines[i:later]):
                return None
            return count
    return None


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
        if _attribution_at(lines, i) is not None:
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
    """Our quoted marker sits under the client's "On … wrote:" header: cut the header too."""
    for start in range(max(0, cut - _WRAPPED_LINES - 1), cut):
        count = _attribution_at(lines, start)
        if count is not None and all(not line.strip() for line in lines[start + count : cut]):
            return start
    return cut


def _answer_below(lines: list[str], cut: int) -> list[str] | None:
    """A reply written under the quotation (Thunderbird's and mailing lists' habit): the lines
    after the header and its "> " block, when nothing else is quoted further down. Interleaved
    answers stay whole, since each answer needs its question."""
    count = _attribution_at(lines, cut)
    if count is None:
        return None
    end = cut + count
    while end < len(lines) and (lines[end].startswith(">") or not lines[end].strip()):
        end += 1
    rest = lines[end:]
    if not any(line.strip() for line in rest) or any(line.startswith(">") for line in rest):
        return None
    if _client_quote_line(rest) is not None:
        return None
    return rest


def strip_text(text: str, marker: str) -> str | None:
    """The reply without its quoted history; None when nothing looked quoted."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _cut_line(lines, marker)
    if cut is None:
        return None
    if not any(line.strip() for line in lines[:cut]):
        below = _answer_below(lines, cut)
        if below is not None:
            return "\n".join(below).strip()
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
        self.blocks_before_last_blockquote = 0
        self.quote_spans: list[tuple[int, int]] = []  # top-level blockquotes: (start, end) offsets
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
                self.blocks_before_last_blockquote = len(self.blocks)
                self.after_blockquote_text = False
            self.depth_blockquote += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK:
            self.close_block(self._at())
        if tag == "blockquote" and self.depth_blockquote:
            self.depth_blockquote -= 1
            if self.depth_blockquote == 0 and self.last_blockquote is not None:
                at = self._at()
                close = self.source.find(">", at)
                self.quote_spans.append((self.last_blockquote, len(self.source) if close < 0 else close + 1))

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
            candidates.append(self._with_header_above(self.last_blockquote))
        return min(candidates) if candidates else None

    def _with_header_above(self, quote: int) -> int:
        """The blocks right above a trailing blockquote that are its "<date>, <name> wrote:"
        header (sanitised HTML has lost the class that says so) belong to the quotation."""
        texts = [t for _o, t in self.blocks[: self.blocks_before_last_blockquote]]
        for start in range(max(0, len(texts) - _WRAPPED_LINES), len(texts)):
            count = _attribution_at(texts, start, quote_follows=True)
            if count is not None and start + count == len(texts):
                return self.blocks[start][0]
        return quote


_EMPTY_TAIL = re.compile(r"(\s|<br>|<hr>|&nbsp;)+$")
_EMPTY_HEAD = re.compile(r"^(\s|<br>|<hr>|&nbsp;)+")
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
    if not _visible(clean_html(html[:cut])):
        below = _html_answer_below(html, cut, cutter.quote_spans, marker)
        if below is not None:
            return below
    kept = _trimmed(clean_html(html[:cut]))
    return kept


def _html_answer_below(html: str, cut: int, quotes: list[tuple[int, int]], marker: str) -> str | None:
    """The HTML twin of `_answer_below`: what follows the one quotation the reply starts with."""
    following = [(start, end) for start, end in quotes if end > cut]
    if len(following) != 1:
        return None  # no quotation to skip, or answers interleaved with several quotes
    rest = html[following[0][1] :]
    kept = _trimmed(clean_html(rest))
    if not _visible(kept):
        return None
    later = _Cutter(rest, marker)
    try:
        later.feed(rest)
        later.close()
    except Exception:
        return None
    return kept if later.result() is None else None


def _trimmed(kept: str) -> str:
    previous = None
    while previous != kept:
        previous = kept
        kept = _EMPTY_TAIL.sub("", kept)
        kept = _EMPTY_PAIR.sub("", kept)
        kept = _EMPTY_HEAD.sub("", kept)
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
