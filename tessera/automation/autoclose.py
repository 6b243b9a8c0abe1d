"""The auto-close job: resolved tickets whose department's quiet period has passed close by
themselves (tessera/tickets/services/auto_close.py writes the change). `closes_at` tells the
resolution mail when that will be."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from tessera.accounts.models import Department
from tessera.tickets import services
from tessera.tickets.models import State, Ticket

log = logging.getLogger(__name__)

# Tickets closed per department per run; the next run takes the rest.
BATCH = 1000


def run(now: datetime | None = None) -> int:
    """Close every resolved ticket that has waited its department's quiet period; return how many.
    One query per department with a quiet period (department, state index), one transaction per
    ticket."""
    now = now or timezone.now()
    closed = 0
    for department in Department.objects.filter(auto_close_days__isnull=False).only("pk", "auto_close_days"):
        days = department.auto_close_days or 0
        ids = list(
            Ticket.objects.filter(
                department_id=department.pk, state=State.RESOLVED, resolved_at__lte=now - timedelta(days=days)
            )
            .order_by("resolved_at", "pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        for ticket_id in ids:
            try:
                if services.close_if_quiet(ticket_id, now=now):
                    closed += 1
            except Exception:
                log.exception("Could not close ticket %s automatically", ticket_id)
    return closed


def closes_at(ticket: Ticket) -> datetime | None:
    """When a resolved ticket will close by itself if nobody writes (None: it will not)."""
    days = ticket.department.auto_close_days
    if ticket.state != State.RESOLVED or ticket.resolved_at is None or days is None:
        return None
    return ticket.resolved_at + timedelta(days=days)
