"""What the parser makes of a message: the shapes shared by parsing, threading and ingest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
