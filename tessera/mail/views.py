"""The full original of a message received by mail, for agents.

A reply by mail lands on the ticket without the quoted history under it; this page shows what
really arrived (headers, the whole text, the attached files, the raw source) so nothing the
customer sent is ever out of reach. Only agents who can see the ticket may open it; anyone else
gets the same "not found" as for a message that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy as email_policy
from email.parser import BytesHeaderParser

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent
from tessera.staff.access import agent_required
from tessera.tickets import policy

from .models import InboundMessage
from .parse import parse

RAW_SHOWN_BYTES = 1024 * 1024  # a browser tab stays usable; the download is the whole thing


@dataclass(frozen=True)
class Header:
    name: str
    value: str


def headers_of(raw: bytes) -> list[Header]:
    """Every header in order, decoded where possible and shown as received where not."""
    message = BytesHeaderParser(policy=email_policy.compat32).parsebytes(raw, headersonly=True)
    found = []
    for name, value in message.raw_items():
        try:
            text = str(email_policy.default.header_factory(name, value))
        except Exception:  # a header no decoder can read is still worth showing as received
            text = str(value)
        found.append(Header(name, " ".join(text.split())))
    return found


@require_GET
@agent_required
def original(request: AuthenticatedHttpRequest, agent: Agent, pk: int) -> HttpResponse:
    message = InboundMessage.objects.select_related("ticket", "entry", "mailbox").filter(pk=pk).first()
    ticket = message.ticket if message is not None else None
    allowed = request.user.is_superuser if ticket is None else policy.acts_as_agent(request.user, ticket)
    if message is not None and message.entry is not None:  # a public message is open to its requester too
        allowed = policy.can_see_entry(request.user, message.entry)
    if message is None or not allowed:
        return render(
            request,
            "staff/not_found.html",
            {"message": _("This email does not exist or is not on a ticket you can see.")},
            status=404,
        )
    raw = bytes(message.raw)
    parsed = parse(raw)
    shown = raw[:RAW_SHOWN_BYTES].decode("utf-8", errors="replace")
    context = {
        "message": message,
        "ticket": ticket,
        "headers": headers_of(raw),
        "parsed": parsed,
        "raw_text": shown,
        "raw_cut": len(raw) > RAW_SHOWN_BYTES,
    }
    return render(request, "mail/original.html", context)
