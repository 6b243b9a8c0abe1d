"""What the parser makes of a message: the shapes shared by parsing, threading and ingest; and
GuardedEmail, the one class every mail Tessera sends is built with."""

from __future__ import annotations

import contextlib
import email.message
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import BaseHeader

from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext as _

from tessera.single_line import line_break_in


@dataclass(frozen=True)
class Address:
    name: str
    email: str  # lower-cased; "" when the header held no usable address


@dataclass
class MailAttachment:
    filename: str  # never empty: a nameless part gets one made up from its type
    content_type: str
    data: bytes
    content_id: str = ""  # without <>, for inline images referenced as cid:
    inline: bool = False


@dataclass
class ParsedMessage:
    """Everything ingest needs, decoded to str and UTF-8. `parse` never raises: what it could
    not read is listed in `problems` and the rest is still filled in."""

    is_message: bool = True  # False: the bytes hold no header at all (not mail)
    message_id: str = ""  # without <>
    in_reply_to: list[str] = field(default_factory=list)  # without <>
    references: list[str] = field(default_factory=list)  # without <>, oldest first
    subject: str = ""
    sender: Address | None = None  # From (Reply-To is separate)
    reply_to: Address | None = None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    date: datetime | None = None  # aware, UTC
    text: str = ""  # the plain-text body (from the HTML part when there is no text part)
    html: str = ""  # the HTML body, sanitised with the same rules as thread entries; "" if none
    attachments: list[MailAttachment] = field(default_factory=list)
    auto_reply: str = ""  # why it is an automatic reply (header and value), "" when it is not
    bounce: bool = False  # a delivery status notification (multipart/report or MAILER-DAEMON)
    bounce_ids: list[str] = field(default_factory=list)  # Message-IDs of the mail that bounced
    bounce_text: str = ""  # the human-readable part of the bounce
    problems: list[str] = field(default_factory=list)  # translatable sentences, for the timeline


# ---------------------------------------------------------------------------- outbound guard

_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 field name: printable ASCII except ":"


class UnsafeHeader(ValueError):
    """A header of a message about to be sent would hold a line break, raw or once decoded. The
    delivery fails at once (retrying cannot help) and says why in the ticket's Email panel."""


def check_header(name: str, value: object) -> None:
    """Refuse a header whose value holds CR, LF, NUL or another line break as it is or once its
    RFC 2047 encoded words are decoded (to any depth). A line break there is how text becomes a
    forged header (Bcc, Reply-To) on an interpreter that writes it out (CVE-2024-6923)."""
    if not _HEADER_NAME.fullmatch(name) or line_break_in(str(value)):
        raise UnsafeHeader(
            _(
                "Not sent: its %(header)s header would have held a line break, which could add "
                "headers the desk never wrote (mail header injection)."
            )
            % {"header": name if _HEADER_NAME.fullmatch(name) else "?"}
        )


class GuardedEmail(EmailMultiAlternatives):
    """Django's message with every header checked twice: the values handed in, before any
    address is parsed or any connection opened, and the headers of the MIME message as Python's
    email package decoded them, just before serialising. Sanitising happens earlier (single-line
    fields are neutralised on the way in, and outbound cleans what it composes); this is the last
    line, so it refuses rather than guesses: a forged header is never sent, and the delivery
    fails visibly instead."""

    def check_headers(self) -> None:
        check_header("Subject", self.subject)
        check_header("From", self.extra_headers.get("From", self.from_email))
        for name, values in (("To", self.to), ("Cc", self.cc), ("Bcc", self.bcc), ("Reply-To", self.reply_to)):
            for value in values:
                check_header(name, value)
        for name, value in self.extra_headers.items():
            check_header(name, value)

    def send(self, fail_silently: bool = False, *, using: str | None = None) -> int:
        self.check_headers()
        return super().send(fail_silently=fail_silently, using=using)

    # The policy is narrower than Django's `Policy | None` on purpose: the headers are read back,
    # which only an EmailPolicy can do (Django's own callers pass no policy at all).
    def message(  # type: ignore[override]
        self, *, policy: email.policy.EmailPolicy[email.message.EmailMessage] = email.policy.default
    ) -> email.message.EmailMessage:
        self.check_headers()
        msg = super().message(policy=policy)
        for part in msg.walk():
            for name, value in part.items():
                check_header(name, value)  # str(value) is the value as the email package decoded it
        meant = {"From": [self.extra_headers.get("From", self.from_email)], "To": self.to, "Cc": self.cc}
        meant["Reply-To"] = self.reply_to
        for name, values in meant.items():
            check_addresses(name, msg[name], policy, [email.utils.parseaddr(str(v))[1] for v in values])
        return msg


def written_addresses(
    name: str, value: str, policy: email.policy.EmailPolicy[email.message.EmailMessage] = email.policy.SMTP
) -> list[str]:
    """The addresses a receiver reads from the header once the email package has written it out."""
    return _read_back(name, policy.header_factory(name, value), policy)


def _read_back(
    name: str, header: BaseHeader, policy: email.policy.EmailPolicy[email.message.EmailMessage]
) -> list[str]:
    written = re.sub(r"\r?\n[ \t]", " ", header.fold(policy=policy)).split(":", 1)[1].strip()
    return [a.addr_spec for a in email.policy.default.header_factory(name, written).addresses]


def _comparable(address: str) -> str:
    local, _at, domain = address.rpartition("@")
    if not domain.isascii():
        with contextlib.suppress(UnicodeError):
            domain = domain.encode("idna").decode("ascii")  # as Django writes it
    return f"{local}@{domain.lower()}"


def check_addresses(
    name: str, header: BaseHeader | None, policy: email.policy.EmailPolicy[email.message.EmailMessage], meant: list[str]
) -> None:
    """Refuse an address header that names other addresses than the ones Tessera meant (read
    without decoding anything), as the email package parsed it or as a receiver reads it once
    written out: CPython 3.13.0 folds or encodes a display name holding ":" or "@" without its
    quotes, and reads some encoded display names as address syntax, so "Zoë: pay@elsewhere.example"
    can turn into an address."""
    if header is None and not meant:
        return
    expected = [_comparable(a) for a in meant]
    parsed = [_comparable(a.addr_spec) for a in getattr(header, "addresses", ())]
    if header is None or parsed != expected or [_comparable(a) for a in _read_back(name, header, policy)] != expected:
        raise UnsafeHeader(
            _("Not sent: its %(header)s header would have been read as other addresses once written out.")
            % {"header": name}
        )
