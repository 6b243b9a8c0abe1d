"""How osTicket's clients expect to be answered: a status code and a bare text body.

The sentences below are osTicket's own, byte for byte (observed from osTicket 1.18.1,
shared/research/osticket-live.md): clients match on them, so they are protocol constants and
are not translated, like HTTP reason phrases. Tessera's own sentences (warnings, the
validation messages osTicket does not have) are translated as usual.

Bodies are `text/plain` (osTicket says `text/html` for the same bytes: a ticket number or an
error sentence, which a browser should never render as markup).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.http import HttpResponse

from tessera.api import keys

KEY_REQUIRED = "Valid API key required"
KEY_INACTIVE = "API key not found/active or source IP not authorized"
KEY_NOT_AUTHORISED = "API key not authorized"
MALFORMED_JSON = "Syntax error, malformed JSON"
URL_NOT_SUPPORTED = "URL not supported"
UNABLE = "Unable to create new ticket :"
INCOMPLETE_CLIENT = "Incomplete client information"
SUBJECT_REQUIRED = "Issue Summary is a required field"
MESSAGE_REQUIRED = "Issue Details is a required field"

# osTicket looks a key up by key *and* address, so a wrong address reads as a wrong key.
REFUSALS = {
    keys.Reason.MISSING: KEY_REQUIRED,
    keys.Reason.UNKNOWN: KEY_REQUIRED,
    keys.Reason.ADDRESS: KEY_REQUIRED,
    keys.Reason.INACTIVE: KEY_INACTIVE,
    keys.Reason.EXPIRED: KEY_INACTIVE,
    keys.Reason.AGENT_DISABLED: KEY_INACTIVE,
}

WARNINGS_HEADER = "X-Tessera-Warnings"
MAX_HEADER_CHARS = 2000
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]+")


def text(status: int, body: str, *, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(body.encode("utf-8"), status=status, content_type="text/plain; charset=utf-8")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def unable(errors: Sequence[tuple[str, str]], *, status: int = 400) -> HttpResponse:
    """osTicket's validation answer: the prefix, then each field and its message on lines of
    their own. Status 400, as osTicket answered up to 1.16 (1.17 and later answer 500)."""
    return text(status, UNABLE + "\n".join(f"{field}\n{message}" for field, message in errors))


def warnings_header(warnings: Sequence[tuple[str, str]]) -> str:
    """The warnings as one header line: no control characters or line breaks (a client's field
    name must not become a header of its own), ASCII only, and at most MAX_HEADER_CHARS."""
    parts = [_UNSAFE.sub(" ", f"{field}: {message}") for field, message in warnings]
    line = "; ".join(parts).encode("ascii", "backslashreplace").decode("ascii")
    if len(line) > MAX_HEADER_CHARS:
        line = line[: MAX_HEADER_CHARS - 3].rstrip() + "..."
    return line
