"""What an intake channel received but could not use, kept on the ticket it opened.

osTicket's API drops an unknown help topic or priority, undecodable base64 and attachments over
the size limit without a word; the client still gets its 201 and nobody learns what was lost.
Tessera opens the ticket too (clients expect it) but writes each problem on the timeline, and
keeps the caller's details (phone, address) that have no column of their own, so an agent sees
everything that was sent. Tests: tests/api/test_osticket_warnings.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Event, EventKind, Ticket
from .common import _event


def record_intake_warnings(
    ticket: Ticket,
    warnings: Sequence[tuple[str, str]],
    *,
    phone: str = "",
    address: str = "",
    now: datetime | None = None,
) -> list[Event]:
    """One Event per `(field, problem)` in `warnings`, and one with the caller's `phone` and
    `address` (the IP the client says the request came from) when given; all by the system,
    with the channel recorded as `via`. Nothing is written when there is nothing to say."""
    events: list[Event] = []
    if not warnings and not phone and not address:
        return events
    now = now or timezone.now()
    # All or nothing; within the caller's transaction (osTicket's endpoint opens the ticket and
    # writes these in one block, and lets any error roll it all back) a savepoint would only add
    # two statements per ticket.
    with transaction.atomic(savepoint=False):
        for field, problem in warnings:
            name = field[:100]
            events.append(_event(ticket, None, EventKind.INTAKE_WARNING, name, problem, now=now, field=name))
        details = {"phone": phone[:100], "address": address[:100]}
        labels = {"phone": _("phone number %(value)s"), "address": _("IP address %(value)s")}
        shown = [labels[key] % {"value": value} for key, value in details.items() if value]
        if shown:
            data = {key: value for key, value in details.items() if value}
            events.append(_event(ticket, None, EventKind.INTAKE_DETAILS, "", "; ".join(shown), now=now, **data))
    return events
