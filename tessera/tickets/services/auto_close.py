"""Auto-close: a resolved ticket closes by itself once its department's quiet period has passed
without a reply from the customer (whose reply reopens it, see conversation.reply). The job that
finds them is tessera/automation/autoclose.py. Tests: tests/automation/test_auto_close.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from .. import close_guards, notifications
from ..models import EventKind, State, Ticket
from .common import _event, _on_commit, _touch, default_status
from .sla import sla_refresh


def close_if_quiet(ticket_id: int, *, now: datetime) -> bool:
    """Close the ticket if, under its row lock, it is still resolved and has been for its
    department's quiet period (`Department.auto_close_days`); True when it closed. Two runners
    at once close it once: the second finds it closed."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().select_related("department", "status").get(pk=ticket_id)
        days = ticket.department.auto_close_days
        if (
            ticket.state != State.RESOLVED
            or days is None
            or ticket.resolved_at is None
            or ticket.resolved_at > now - timedelta(days=days)
        ):
            return False
        try:
            # Work still hanging on the ticket (open tasks) keeps it resolved until it is done.
            close_guards.check(None, ticket, confirmed=False, now=now)
        except close_guards.CloseRefused:
            return False
        status = default_status(State.CLOSED)
        before = ticket.status.name
        ticket.status = status
        ticket.state = State.CLOSED
        ticket.closed_at = now
        sla_fields = sla_refresh(ticket, now)
        _event(
            ticket, None, EventKind.STATUS, before, status.name, now=now, state=State.CLOSED, auto="quiet", days=days
        )
        _touch(ticket, now, "status", "state", "closed_at", *sla_fields)
        ticket_id = ticket.pk
        _on_commit(lambda: notifications.status_changed(ticket_id, None, State.RESOLVED, State.CLOSED))
    return True
