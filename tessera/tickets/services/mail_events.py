"""Timeline events about mail that never became a thread entry.

The mail adapters (tessera.mail: ingest, outbound) record through here, like every other
change, so the timeline keeps one writer: the services. Tests: tests/mail/test_ingest.py and
tests/mail/test_outbound.py.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from ..models import Event, EventKind, Ticket
from .common import _event

MAIL_EVENTS = (EventKind.AUTO_REPLY, EventKind.BOUNCE, EventKind.MAIL_REFUSED, EventKind.DELIVERY_FAILED)


def record_mail_event(
    ticket: Ticket, kind: str, *, address: str, detail: str, now: datetime | None = None, **data: int | str | None
) -> Event:
    """Note on the timeline mail that reached the ticket but was not posted (an automatic
    reply, a bounce, a refused sender), or mail from the desk that gave up (a delivery that
    failed), so agents see it without it being answered, reopening the ticket or bumping it
    in the queues. `address` is whom it concerns, `detail` why."""
    if kind not in MAIL_EVENTS:
        raise ValueError(f"not a mail event: {kind}")
    with transaction.atomic():
        return _event(ticket, None, kind, address, detail, now=now, **data)
