"""What a client sent, read from JSON or XML into one shape, before any checking.

Both formats end here so that `submission` checks one thing: values by osTicket's field
names (as text, or None when the value was not text), the message with the type and encoding
XML may give it, the files, and the problems met while reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RawFile:
    name: str
    payload: str  # a data: URL (JSON), or the element's text (XML)
    content_type: str = ""  # XML's type attribute
    encoding: str = ""  # XML's encoding attribute ("base64" or "")


@dataclass
class RawRequest:
    # osTicket's field name -> the value as text; None: sent, but not as text (an object, a list)
    values: dict[str, str | None] = field(default_factory=dict)
    message: str | None = None
    message_type: str = ""  # XML's <message type="text/html">
    message_encoding: str = ""  # XML's <message encoding="base64">
    message_charset: str = ""
    files: list[RawFile] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, what was wrong)
    is_object: bool = True  # False: the JSON was valid but not an object (osTicket: every field missing)
