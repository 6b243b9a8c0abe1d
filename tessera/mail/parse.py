"""Raw RFC 5322 bytes → ParsedMessage, for every way mail comes in (pipe, IMAP, HTTP).

Real mail is messy: wrong or unknown charsets, 8-bit headers, broken boundaries, parts without
names. The rule here is "nothing lost, nothing raised": each header is read on its own so one
broken header cannot hide the others, what could not be read is described in `problems`, and
the last line of `parse` catches anything the stdlib still throws so ingest can always keep the
message and say why.

Choices worth knowing:
- HTML goes through the thread-entry sanitiser (`tickets.content.clean_html`) so mail looks like
  any other entry; `cid:` images survive for inline display, but remote images (http/https
  sources) are neutralised: the <img> keeps only its alt text, so opening a ticket never tells a
  tracker that the mail was read.
- The subject alone never makes a message an automatic reply ("Auto: car broken" is a real
  request). Every mainstream responder (Exchange, Gmail, iCloud, vacation(1)) sets one of the
  headers checked in `_auto_reply`, and with such a header the subject adds nothing.
"""

from __future__ import annotations

import base64
import contextlib
import email.header
import email.utils
import mimetypes
import quopri
import re
from collections import Counter
from datetime import UTC, datetime
from email import policy
from email.errors import MessageDefect
from email.message import Message
from email.parser import BytesParser
from typing import cast

from django.utils.translation import gettext as _

from tessera.single_line import has_encoded_word, single_line
from tessera.tickets.content import html_to_text

from .bodies import DATA_IMAGE, sanitise_html, text_to_html, unflow
from .charsets import decode_bytes, header_text, raw_header_bytes, tidy
from .message import Address, MailAttachment, ParsedMessage

# Headers are read raw (raw_items) and decoded here one by one, so the modern policy's header
# objects add nothing but cost: its registry re-parses Content-Type on every access, which made
# parsing five times slower (~100 vs ~500 messages a second here) when ingest must sustain 100
# a second end to end. The tests pass with either policy; compat32 is the one that keeps up.
PARSE_POLICY = policy.compat32
MAX_DEPTH = 20  # nesting of multiparts / forwarded messages; deeper is an attack or a loop
MAX_ID_LENGTH = 255  # InboundMessage.message_id / Delivery.message_id
BOUNCE_TEXT_LIMIT = 2000
HEADER_PEEK_BYTES = 256 * 1024  # `peek` reads at most this much of a header block

_STRUCTURE_DEFECTS = {
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "NoBoundaryInMultipartDefect",
    "MultipartInvariantViolationDefect",
    "FirstHeaderLineIsContinuationDefect",
    "MissingHeaderBodySeparatorDefect",
}
_ENCODING_DEFECTS = {"InvalidBase64PaddingDefect", "InvalidBase64CharactersDefect", "InvalidBase64LengthDefect"}


class _Reader:
    """One parse: collects body segments, attachments, problems and bounce facts."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.segments: list[tuple[str, str | None]] = []  # (text, html or None)
        self.attachments: list[MailAttachment] = []
        self.names: Counter[str] = Counter()
        self.bounce = False
        self.bounce_ids: list[str] = []
        self.bounce_text = ""
        self.bounce_facts: list[str] = []
        self.recipient_known = False  # the delivery-status part named the failed recipient

    def problem(self, sentence: str) -> None:
        if sentence not in self.problems:
            self.problems.append(sentence)

    # -- headers -----------------------------------------------------------------------------

    def raw_headers(self, msg: Message, name: str) -> list[str]:
        try:
            return [value for key, value in msg.raw_items() if key.lower() == name.lower()]
        except Exception:
            return []

    def first_header(self, msg: Message, name: str) -> str:
        values = self.raw_headers(msg, name)
        return header_text(values[0]) if values else ""

    def addresses(self, msg: Message, name: str) -> list[Address]:
        found: list[Address] = []
        for raw in self.raw_headers(msg, name):
            raw = decode_bytes(raw_header_bytes(raw)) if any("\udc80" <= c <= "\udcff" for c in raw) else raw
            raw = re.sub(r"\r?\n[ \t]*", " ", raw)
            try:
                pairs = email.utils.getaddresses([raw])
            except Exception:
                pairs = []
            usable = [(n, a) for n, a in pairs if n or a]
            if not usable:
                self.problem(_("The %(header)s header could not be read.") % {"header": name})
                found.append(Address(name=single_line(header_text(raw))[:200], email=""))
                continue
            for display, addr in usable:
                found.append(Address(name=single_line(header_text(display))[:200], email=_clean_email(addr)))
        return found

    # -- body --------------------------------------------------------------------------------

    def walk(self, part: Message, depth: int = 0, related: bool = False) -> None:
        if depth > MAX_DEPTH:
            self.problem(_("The message was nested too deeply; the innermost parts were not read."))
            return
        self.note_defects(part)
        ctype = _content_type(part)
        if ctype.startswith("multipart/"):
            children = part.get_payload() if part.is_multipart() else None
            if not isinstance(children, list) or not children:
                self.salvage(part, depth)
                return
            children = cast("list[Message]", children)  # the parser makes a multipart's payload its parts
            if ctype == "multipart/alternative":
                self.alternative(children, depth)
            elif ctype == "multipart/related":
                self.related(part, children, depth)
            elif ctype == "multipart/report":
                self.report(children, depth)
            else:
                for child in children:
                    self.walk(child, depth + 1, related)
            return
        disposition = _disposition(part)
        has_name = bool(_filename(part))
        if ctype == "message/rfc822" or ctype == "message/global":
            self.forwarded(part, depth)
        elif ctype in ("text/plain", "text/html") and disposition != "attachment" and not has_name:
            text, html = self.text_part(part, ctype)
            if text or html:
                self.segments.append((text, html))
        elif ctype in ("message/delivery-status", "message/global-delivery-status"):
            self.delivery_status(part)
            self.attach(part, ctype, related)
        else:
            self.attach(part, ctype, related)

    def text_part(self, part: Message, ctype: str) -> tuple[str, str | None]:
        data = _payload(part)
        try:
            charset = part.get_content_charset()
        except Exception:
            charset = None
        text = decode_bytes(data, charset)
        if ctype == "text/html":
            safe = sanitise_html(DATA_IMAGE.sub(self.data_image, text))
            return html_to_text(safe), safe
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        try:
            flowed = str(part.get_param("format") or "").lower() == "flowed"
            delsp = str(part.get_param("delsp") or "").lower() == "yes"
        except Exception:
            flowed = delsp = False
        return (unflow(text, delsp) if flowed else text).strip("\n"), None

    def data_image(self, match: re.Match[str]) -> str:
        """An image pasted into the HTML as a data: URI (Apple Mail, Outlook on the web) becomes an
        inline attachment; the sanitiser would otherwise drop it and the picture would be lost."""
        try:
            data = base64.b64decode(re.sub(r"\s+", "", match.group("data")), validate=False)
        except Exception:
            return match.group(0)
        ctype = match.group("type").lower()
        name = self.made_up_name(ctype)
        content_id = f"{name}@data-uri.tessera"
        self.attachments.append(
            MailAttachment(filename=name, content_type=ctype, data=data, content_id=content_id, inline=True)
        )
        return f'src="cid:{content_id}"'

    def alternative(self, children: list[Message], depth: int) -> None:
        plain: str | None = None
        rich: str | None = None
        for child in children:
            ctype = _content_type(child)
            if ctype == "text/plain" and _disposition(child) != "attachment" and plain is None:
                plain = self.text_part(child, ctype)[0]
            elif ctype == "text/html" and _disposition(child) != "attachment" and rich is None:
                rich = self.text_part(child, ctype)[1]
            elif ctype.startswith("multipart/"):
                inner = _Reader()
                inner.names = self.names
                inner.walk(child, depth + 1)
                self.attachments.extend(inner.attachments)
                for sentence in inner.problems:
                    self.problem(sentence)
                if inner.segments and rich is None:
                    rich = "".join(h if h is not None else text_to_html(t) for t, h in inner.segments)
                    if plain is None:
                        plain = "\n\n".join(t for t, _h in inner.segments)
            else:
                self.walk(child, depth + 1)
        if plain is None and rich is not None:
            plain = html_to_text(rich)
        if plain is not None or rich is not None:
            self.segments.append((plain or "", rich))

    def related(self, part: Message, children: list[Message], depth: int) -> None:
        start = ""
        with contextlib.suppress(Exception):
            start = _strip_id(str(part.get_param("start") or ""))
        root = children[0]
        if start:
            for child in children:
                if _content_id(child) == start:
                    root = child
                    break
        self.walk(root, depth + 1)
        for child in children:
            if child is not root:
                self.walk(child, depth + 1, related=True)

    def report(self, children: list[Message], depth: int) -> None:
        """multipart/report: the first part is for people, the rest for machines (RFC 6522)."""
        first, rest = children[0], children[1:]
        before = len(self.segments)
        self.walk(first, depth + 1)
        readable = "\n\n".join(t for t, _h in self.segments[before:])
        if readable and not self.bounce_text:
            self.bounce_text = readable
        for child in rest:
            ctype = _content_type(child)
            if ctype in ("message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers"):
                self.returned_original(child)
            else:
                self.walk(child, depth + 1)

    def delivery_status(self, part: Message) -> None:
        self.bounce = True
        blocks = part.get_payload()
        fields: list[Message] = []
        if isinstance(blocks, list):
            fields = [b for b in blocks if isinstance(b, Message)]
        else:
            text = decode_bytes(_payload(part))
            for chunk in re.split(r"\r?\n\s*\r?\n", text):
                try:
                    fields.append(BytesParser(policy=policy.compat32).parsebytes(chunk.encode("utf-8"), True))
                except Exception:  # noqa: S112  an unreadable block names no recipient; the others still count
                    continue
        for block in fields:
            recipient = self.first_header(block, "Final-Recipient") or self.first_header(block, "Original-Recipient")
            if recipient:
                address = recipient.split(";", 1)[-1].strip()
                self.bounce_facts.append(_("Failed recipient: %(address)s") % {"address": address})
                self.recipient_known = True
            action = self.first_header(block, "Action")
            status = self.first_header(block, "Status")
            if status or action:
                self.bounce_facts.append(
                    _("Status: %(status)s (%(action)s)") % {"status": status or "?", "action": action or "?"}
                )
            diagnostic = self.first_header(block, "Diagnostic-Code")
            if diagnostic:
                self.bounce_facts.append(_("Diagnostic: %(diagnostic)s") % {"diagnostic": diagnostic})

    def returned_original(self, part: Message) -> None:
        inner = _inner_message(part)
        if inner is None:
            return
        self.bounce_ids.extend(_thread_ids(self, inner))
        self.attach(part, _content_type(part), False)

    def forwarded(self, part: Message, depth: int) -> None:
        inner = _inner_message(part)
        self.attach(part, "message/rfc822", False, inner=inner)
        if inner is None:
            return
        sub = _Reader()
        sub.names = Counter()
        sub.walk(inner, depth + 1)
        lines = [_("---------- Forwarded message ----------")]
        for label, name in ((_("From"), "From"), (_("Date"), "Date"), (_("Subject"), "Subject"), (_("To"), "To")):
            value = self.first_header(inner, name)
            if value:
                lines.append(f"{label}: {value}")
        body = "\n\n".join(t for t, _h in sub.segments if t)
        self.segments.append(("\n".join(lines) + ("\n\n" + body if body else ""), None))

    def salvage(self, part: Message, depth: int) -> None:
        """A multipart whose boundary never shows up: split on whatever boundary-looking lines
        there are and read each piece; failing that, the whole payload is the text."""
        self.problem(_("The message's MIME structure was damaged; what could be read was kept."))
        payload = part.get_payload()
        data = raw_header_bytes(payload) if isinstance(payload, str) else b""
        lines = re.findall(rb"^--([^\s]+?)(?:--)?[ \t]*\r?$", data, flags=re.M)
        pieces: list[bytes] = []
        if lines:
            boundary = Counter(lines).most_common(1)[0][0]
            pieces = re.split(rb"^--" + re.escape(boundary) + rb"(?:--)?[ \t]*\r?\n?", data, flags=re.M)
        read_any = False
        for piece in pieces:
            if not re.match(rb"\s*[A-Za-z-]+:", piece):
                continue
            try:
                sub = BytesParser(policy=PARSE_POLICY).parsebytes(piece.lstrip(b"\r\n"))
            except Exception:  # noqa: S112  a piece that is not a message is skipped; the rest is salvaged
                continue
            if not list(sub.keys()):
                continue
            read_any = True
            self.walk(sub, depth + 1)
        if not read_any:
            text = decode_bytes(data).strip()
            if text:
                self.segments.append((text, None))

    def attach(self, part: Message, ctype: str, related: bool, inner: Message | None = None) -> None:
        if ctype in ("message/rfc822", "message/global", "text/rfc822-headers"):
            data = _message_bytes(part, inner)
        else:
            data = _payload(part)
        name = _clean_filename(_filename(part))
        if not name and inner is not None:
            subject = header_text(str(inner.get("Subject", "") or "")) if _safe_has(inner, "Subject") else ""
            name = _clean_filename(subject + ".eml") if subject else ""
        if not name:
            name = self.made_up_name(ctype)
        content_id = _content_id(part)
        disposition = _disposition(part)
        inline = bool(content_id) and (related or disposition != "attachment")
        if ctype == "application/ms-tnef" or name.lower() == "winmail.dat":
            self.problem(
                _(
                    "The message came with winmail.dat, Outlook's rich-text format, which Tessera cannot open; "
                    "it is kept as an attachment. Ask the sender to send plain attachments."
                )
            )
        self.attachments.append(
            MailAttachment(filename=name, content_type=ctype, data=data, content_id=content_id, inline=inline)
        )

    def made_up_name(self, ctype: str) -> str:
        if ctype in ("message/rfc822", "message/global"):
            stem, ext = "forwarded-message", ".eml"
        elif ctype == "text/rfc822-headers":
            stem, ext = "returned-headers", ".txt"
        else:
            stem = "image" if ctype.startswith("image/") else "attachment"
            ext = {"image/jpeg": ".jpg", "text/plain": ".txt"}.get(ctype) or mimetypes.guess_extension(ctype) or ".bin"
        self.names[stem] += 1
        return f"{stem}-{self.names[stem]}{ext}"

    def note_defects(self, part: Message) -> None:
        names = {type(d).__name__ for d in getattr(part, "defects", []) if isinstance(d, MessageDefect)}
        if names & _STRUCTURE_DEFECTS:
            self.problem(_("The message's MIME structure was damaged; what could be read was kept."))
        if names & _ENCODING_DEFECTS:
            self.problem(_("Part of the message was badly encoded; it was decoded as far as possible."))


# -- small helpers ---------------------------------------------------------------------------


def _safe_has(msg: Message, name: str) -> bool:
    try:
        return name in msg
    except Exception:
        return False


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    if not name:
        try:
            name = str(part.get_param("name") or "")
        except Exception:
            name = ""
    return header_text(name) if name else ""


def _clean_filename(name: str) -> str:
    """Just the base name, no control characters, short enough for a file system."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).replace("\\", "/").rsplit("/", 1)[-1].strip().strip(".")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 190 - len(ext)] + dot + ext if dot and len(ext) < 10 else name[:200]
    return name


def _content_id(part: Message) -> str:
    try:
        values = [v for k, v in part.raw_items() if k.lower() == "content-id"]
    except Exception:
        return ""
    return _strip_id(values[0]) if values else ""


def _strip_id(value: str) -> str:
    value = re.sub(r"\s+", "", value or "")
    match = re.search(r"<([^<>]+)>", value)
    return (match.group(1) if match else value.strip("<>"))[:MAX_ID_LENGTH]


def _ids(value: str) -> list[str]:
    """Message-IDs from In-Reply-To / References, tolerating missing brackets, commas, comments."""
    value = re.sub(r"\([^()]*\)", " ", value)
    bracketed = re.findall(r"<([^<>]+)>", value)
    if bracketed:
        found = [re.sub(r"\s+", "", v) for v in bracketed]
    else:
        found = [t.strip("<>") for t in re.split(r"[\s,;]+", value) if "@" in t]
    seen: list[str] = []
    for mid in found:
        mid = mid[:MAX_ID_LENGTH]
        if mid and mid not in seen:
            seen.append(mid)
    return seen


def _thread_ids(reader: _Reader, msg: Message) -> list[str]:
    found: list[str] = []
    for name in ("Message-ID", "In-Reply-To", "References"):
        for raw in reader.raw_headers(msg, name):
            for mid in _ids(header_text(raw) if name != "Message-ID" else raw):
                if mid not in found:
                    found.append(mid)
    return found


def _clean_email(addr: str) -> str:
    addr = (addr or "").strip().strip("<>").strip().lower()
    if has_encoded_word(addr):  # legal in a local part, but decoders read a header out of it
        return ""
    if not re.fullmatch(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.?[^@\s<>(),;:\"]*", addr) or len(addr) > 254:
        return ""
    return addr


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload() if not part.is_multipart() else ""
    return raw_header_bytes(payload) if isinstance(payload, str) else b""


def _inner_message(part: Message) -> Message | None:
    """The message inside message/rfc822 (or text/rfc822-headers), even when a client base64-encoded it."""
    try:
        cte = str(part.get("Content-Transfer-Encoding", "") or "").strip().lower()
    except Exception:
        cte = ""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        if cte not in ("base64", "quoted-printable"):
            return payload[0]
        # Some clients encode the forwarded message (RFC 2046 forbids it); the parser then read
        # the encoded text as a header-less message. Decode it and read it again.
        try:
            raw = payload[0].get_payload(decode=True)  # bytes, or None for a multipart
            data = raw if isinstance(raw, bytes) else b""
            data = base64.b64decode(data) if cte == "base64" else quopri.decodestring(data)
        except Exception:
            return payload[0]
    else:
        data = _payload(part)
    if not data.strip():
        return None
    try:
        return BytesParser(policy=PARSE_POLICY).parsebytes(data.lstrip(b"\r\n"))
    except Exception:
        return None


def _message_bytes(part: Message, inner: Message | None) -> bytes:
    if inner is None:
        inner = _inner_message(part)
    if inner is not None:
        for pol in (policy.default, policy.compat32):
            try:
                return inner.as_bytes(policy=pol)
            except Exception:  # noqa: S112  the next policy may write it; the raw payload is the last resort
                continue
    return _payload(part)


_PRESENCE_HEADERS = ("X-Autorespond", "X-Autoresponse", "X-AutoReply-From", "X-Mail-Autoreply")


def _auto_reply(reader: _Reader, msg: Message) -> str:
    """Why this is an automatic message, "" when a person wrote it (RFC 3834 and the de-facto headers)."""
    value = reader.first_header(msg, "Auto-Submitted")
    if value and not value.lower().startswith("no"):
        return f"Auto-Submitted: {value}"[:200]
    value = reader.first_header(msg, "X-Autoreply")
    if reader.raw_headers(msg, "X-Autoreply") and value.lower() not in ("no", "false", "0"):
        return f"X-Autoreply: {value}"[:200]
    for name in _PRESENCE_HEADERS:
        if reader.raw_headers(msg, name):
            return f"{name}: {reader.first_header(msg, name)}"[:200].rstrip(": ")
    for name in ("Precedence", "X-Precedence"):
        value = reader.first_header(msg, name)
        if value.lower().startswith(("bulk", "junk", "list", "auto_reply", "auto-reply")):
            return f"{name}: {value}"[:200]
    value = reader.first_header(msg, "X-Auto-Response-Suppress")
    tokens = {t.strip().lower() for t in re.split(r"[,\s]+", value)}
    if tokens & {"all", "oof", "autoreply"}:
        return f"X-Auto-Response-Suppress: {value}"[:200]
    value = reader.first_header(msg, "X-Autogenerated")
    if value.lower().startswith("reply"):
        return f"X-Autogenerated: {value}"[:200]
    return ""


_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliver|undelivered mail|delivery (status notification|failure|has failed)|mail delivery (failed|failure)"
    r"|failure notice|returned mail)",
    re.I,
)


def _finish_bounce(reader: _Reader, msg: Message, pm: ParsedMessage) -> None:
    report_type = ""
    with contextlib.suppress(Exception):
        report_type = str(msg.get_param("report-type") or "").lower()
    if _content_type(msg) == "multipart/report" and report_type == "delivery-status":
        reader.bounce = True
    from_raw = " ".join(reader.raw_headers(msg, "From")).lower()
    daemon = "mailer-daemon" in from_raw or "postmaster" in from_raw
    if daemon and (_BOUNCE_SUBJECT.search(pm.subject) or reader.raw_headers(msg, "X-Failed-Recipients")):
        reader.bounce = True
    if not reader.bounce:
        return
    if not reader.bounce_ids:
        # Old-style bounces (qmail, Exim without DSN) quote the original's headers in the text.
        for match in re.finditer(r"^\s*Message-ID:\s*(<[^<>\s]+>)", pm.text, flags=re.I | re.M):
            reader.bounce_ids.extend(_ids(match.group(1)))
    failed = header_text(" ".join(reader.raw_headers(msg, "X-Failed-Recipients")))
    if failed and not reader.recipient_known:
        reader.bounce_facts.insert(0, _("Failed recipient: %(address)s") % {"address": failed})
    text = (reader.bounce_text or pm.text).strip()
    if len(text) > BOUNCE_TEXT_LIMIT:
        text = text[:BOUNCE_TEXT_LIMIT].rstrip() + " …"
    facts = "\n".join(dict.fromkeys(reader.bounce_facts))
    pm.bounce = True
    pm.bounce_ids = list(dict.fromkeys(i for i in reader.bounce_ids if i and i != pm.message_id))
    pm.bounce_text = (text + ("\n\n" + facts if facts else "")).strip()


# -- the entry point -------------------------------------------------------------------------


def _has_header(raw: bytes) -> bool:
    """True when the bytes start with something shaped like an RFC 5322 header line."""
    head = raw.lstrip(b"\r\n")
    if head.startswith(b"From "):  # mbox separator line
        head = head.split(b"\n", 1)[-1]
    return re.match(rb"[!-9;-~]+[ \t]*:", head) is not None


def parse(raw: bytes) -> ParsedMessage:
    """Read one RFC 5322 message. Never raises: what could not be read is in `problems`."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raw = str(raw).encode("utf-8", "surrogateescape")
    raw = bytes(raw)
    if not _has_header(raw):
        return ParsedMessage(is_message=False, problems=[_("This is not an email message: it has no headers at all.")])
    try:
        pm = _parse(raw)
    except Exception:  # the stdlib still has corners that raise; the raw bytes are kept by ingest
        pm = ParsedMessage(problems=[_("Tessera could not read this message; the original is kept as it arrived.")])
        try:
            text = raw.split(b"\n\n", 1)[-1] if b"\n\n" in raw else raw
            pm.text = decode_bytes(text).strip()
        except Exception:
            pm.text = ""
    return _tidy_all(pm)


def peek(raw: bytes) -> ParsedMessage:
    """Parse only the header block: enough for Message-ID, sender and subject, cheap even for a
    message far over the size limit."""
    raw = bytes(raw)
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    head = raw[: min(ends)] if ends else raw[:HEADER_PEEK_BYTES]
    return parse(head[:HEADER_PEEK_BYTES] + b"\n\n")


def _parse(raw: bytes) -> ParsedMessage:
    msg = BytesParser(policy=PARSE_POLICY).parsebytes(raw.lstrip(b"\r\n"))
    reader = _Reader()
    pm = ParsedMessage()

    message_ids = reader.raw_headers(msg, "Message-ID")
    pm.message_id = _strip_id(message_ids[0]) if message_ids else ""
    for name, target in (("In-Reply-To", pm.in_reply_to), ("References", pm.references)):
        for raw_value in reader.raw_headers(msg, name):
            target.extend(i for i in _ids(header_text(raw_value)) if i not in target)
    # Decoded once by header_text; single_line decodes what was encoded twice (an attack on the
    # mail we send) and keeps the subject one line with no encoded word (tessera.single_line).
    pm.subject = single_line(reader.first_header(msg, "Subject"))

    senders = reader.addresses(msg, "From")
    if not senders:
        reader.problem(_("The message has no sender (From header)."))
    else:
        pm.sender = next((a for a in senders if a.email), senders[0])
        if not pm.sender.email:
            reader.problem(_("The sender's address (From header) could not be read."))
    reply_to = [a for a in reader.addresses(msg, "Reply-To") if a.email]
    pm.reply_to = reply_to[0] if reply_to else None
    pm.to = [a for a in reader.addresses(msg, "To") if a.email]
    pm.cc = [a for a in reader.addresses(msg, "Cc") if a.email]
    pm.date = _date(reader, msg)

    reader.walk(msg)
    texts = [t for t, _h in reader.segments]
    pm.text = "\n\n".join(t for t in texts if t).strip()
    if any(h is not None for _t, h in reader.segments):
        pm.html = sanitise_html("".join(h if h is not None else text_to_html(t) for t, h in reader.segments))
    pm.attachments = reader.attachments
    pm.auto_reply = _auto_reply(reader, msg)
    _finish_bounce(reader, msg, pm)
    pm.problems = reader.problems
    return pm


def _date(reader: _Reader, msg: Message) -> datetime | None:
    value = reader.first_header(msg, "Date")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except Exception:
        when = None
    if when is None:
        reader.problem(_("The message's date could not be read; the time it arrived is used instead."))
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _tidy_all(pm: ParsedMessage) -> ParsedMessage:
    pm.message_id = tidy(pm.message_id)
    pm.in_reply_to = [tidy(i) for i in pm.in_reply_to]
    pm.references = [tidy(i) for i in pm.references]
    pm.subject = tidy(pm.subject)
    pm.text = tidy(pm.text)
    pm.html = tidy(pm.html)
    pm.auto_reply = tidy(pm.auto_reply)
    pm.bounce_ids = [tidy(i) for i in pm.bounce_ids]
    pm.bounce_text = tidy(pm.bounce_text)

    def addr(a: Address | None) -> Address | None:
        return None if a is None else Address(name=tidy(a.name), email=tidy(a.email))

    pm.sender = addr(pm.sender)
    pm.reply_to = addr(pm.reply_to)
    pm.to = [a for a in map(addr, pm.to) if a is not None]
    pm.cc = [a for a in map(addr, pm.cc) if a is not None]
    for attachment in pm.attachments:
        attachment.filename = tidy(attachment.filename) or "attachment.bin"
        attachment.content_id = tidy(attachment.content_id)
        attachment.content_type = tidy(attachment.content_type)[:100]
    return pm
