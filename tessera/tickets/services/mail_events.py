"""Timeline events about mail that never became a thread entry.

Mail adapters (tessera.mail) record through here, like every other change, so the timeline has
one writer. Tests: tests/mail/test_ingest.py and tests/mail/test_outbound.py.
"""

from __future__ import annotations

from django.db import transaction

from ..models import Event, EventKind, Ticket
from .common import _event

MAIL_EVENTS = (EventKind.AUTO_REPLY, EventKind.BOUNCE, EventKind.MAIL_REFUSED)


def record_mail_event(ticket: Ticket, kind: str, *, address: str, detail: str, **data) -> Event:
    """Note on the timeline mail that reached the ticket but was not posted (an automatic
    reply, a bounce, a refused sender), so agents see it without it being answered, reopening
    the ticket or bumping it in the queues. `address` is whom it concerns, `detail` why."""
    if kind not in MAIL_EVENTS:
        raise ValueError(f"not a mail event: {kind}")
    with transaction.atomic():
        return _event(ticket, None, kind, address, detail, **data)
