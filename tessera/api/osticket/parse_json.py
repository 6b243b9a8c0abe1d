"""`/api/tickets.json`: the body is JSON whatever the Content-Type says (osTicket ignores it).

A body that is not JSON, empty, nested past what the decoder can follow or holding a number too
long to read answers osTicket's `Syntax error, malformed JSON`. Valid JSON that is not an
object is read as a request with nothing in it, so the client learns which fields are missing.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from .raw_request import RawFile, RawRequest


class MalformedJson(ValueError):
    pass


def parse(body: bytes) -> RawRequest:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (ValueError, RecursionError, UnicodeDecodeError):
        # JSONDecodeError and "too many digits" are ValueErrors; "[" * 10**6 is a RecursionError.
        raise MalformedJson from None
    request = RawRequest()
    if not isinstance(data, dict):
        request.is_object = False
        return request
    for key, value in data.items():
        name = scrub(key)
        if name == "message":
            request.message = _text(value)
            if request.message is None and value is not None:
                request.problems.append(("message", _("the message must be text")))
        elif name == "attachments":
            _files(value, request)
        else:
            request.values[str(name)] = _text(value)
    return request


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, (int, float)):
        return str(value)
    return None


def scrub(value: str) -> str:
    """JSON may spell characters no database stores: a lone surrogate (`"\\ud800"`) becomes
    U+FFFD and NUL is dropped, so they cannot turn a request into a server error."""
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace").replace("\x00", "")


def _files(value: Any, request: RawRequest) -> None:
    """A list of one-key objects `{"name.txt": "data:…"}`; osTicket's `{name, type, data,
    encoding}` form is read too, though osTicket itself fails on it in JSON."""
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        request.problems.append(("attachments", _('attachments must be a list of {"filename": "data:…"} objects')))
        return
    for item in value:
        if not isinstance(item, dict) or not item:
            request.problems.append(("attachments", _('an attachment that is not a {"filename": "data:…"} object')))
            continue
        if "data" in item and isinstance(item.get("data"), str):
            request.files.append(
                RawFile(
                    name=str(_text(item.get("name")) or ""),
                    payload=scrub(item["data"]),
                    content_type=str(_text(item.get("type")) or ""),
                    encoding=str(_text(item.get("encoding")) or ""),
                )
            )
            continue
        for name, payload in item.items():
            if isinstance(payload, str):
                request.files.append(RawFile(name=scrub(str(name)), payload=scrub(payload)))
            else:
                request.problems.append(
                    ("attachments", _("the attachment “%(name)s” is not a data: URL") % {"name": str(name)[:100]})
                )
