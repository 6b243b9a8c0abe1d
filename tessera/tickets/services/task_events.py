"""A line on a ticket's timeline for each change to one of its tasks (tessera.tasks).

The tasks app keeps each task's own history (TaskEvent) and calls `record_task_event` in the
same transaction for a task that belongs to a ticket, as only the ticket services write ticket
Events. The line names the task as it was then (`task`, "#12 Replace the toner") and, for an
assignment or transfer, whom or where it went (`to`). It leaves the ticket's version alone: a
task changing is no reason to refuse an agent's panel change on the ticket as stale.
Tests: tests/tasks/test_task_services.py.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError

from tessera.accounts.models import User

from ..models import Event, EventKind, Ticket
from .common import _event

TASK_EVENTS = frozenset(
    {
        EventKind.TASK_CREATED,
        EventKind.TASK_UPDATED,
        EventKind.TASK_ASSIGNED,
        EventKind.TASK_TRANSFERRED,
        EventKind.TASK_NOTE,
        EventKind.TASK_CLOSED,
        EventKind.TASK_REOPENED,
        EventKind.TASK_MOVED,
        EventKind.TASK_DELETED,
    }
)


def record_task_event(
    actor: User | None,
    ticket: Ticket,
    kind: str,
    *,
    task: str,
    now: datetime | None = None,
    **data: int | str | None,
) -> Event:
    """Write the ticket's timeline line for a change to one of its tasks (`kind`: a TASK_* kind)."""
    if kind not in TASK_EVENTS:
        raise ValidationError(f"{kind!r} is not a task event.")
    return _event(ticket, actor, kind, "", task, now=now, **data)
