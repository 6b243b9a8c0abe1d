"""A requester's rating of the help, on the ticket's timeline.

The satisfaction app (`tessera.satisfaction`) keeps the ratings; the timeline is the ticket
core's, so the Event saying who rated what is written here, in the caller's transaction.

A rating never reopens the ticket and changes neither its status nor its place in the queues:
no `_touch`, so `updated_at` and `version` stay as they were. A ticket resolved a week ago does
not jump to the top of an agent's "recently updated" queue because its requester said thanks,
and an agent's open form on it does not go stale. Tests: tests/satisfaction/.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User

from ..models import Event, EventKind, State, Ticket
from .common import _deny, _event

RATED_STATES = (State.RESOLVED, State.CLOSED, State.ARCHIVED)


def record_satisfaction(requester: User, ticket: Ticket, *, score: int, comment: str, before: int | None) -> Event:
    """Record that the ticket's requester rated the help `score` out of 5 (`before`: the score
    they gave earlier, when this changes it). Only the requester may rate, and only a ticket
    that was resolved or closed."""
    if ticket.user_id != requester.pk or not requester.is_active:
        raise _deny(_("Only the person who asked for help can rate it."))
    if ticket.state not in RATED_STATES:
        raise _deny(_("This ticket is open again: rate the help once it is resolved."))
    return _event(
        ticket,
        requester,
        EventKind.SATISFACTION,
        "" if before is None else str(before),
        str(score),
        now=timezone.now(),
        score=score,
        comment=comment,
    )
