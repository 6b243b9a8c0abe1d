"""A ticket's answer to a custom field, changed after the ticket was opened.

The fields app (`tessera.customfields`) stores the typed answers; the timeline is the ticket
core's, so the Event that says who changed which field from what to what is written here, in
the caller's transaction. Tests: tests/customfields/test_ticket_values.py.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User

from .. import policy
from ..models import Event, EventKind, Ticket
from .common import _deny, _event, _lock, _touch

# The timeline keeps this much of each side of a changed long text; the answer itself is whole.
MAX_RECORDED = 2000


def record_field_change(
    actor: User,
    ticket: Ticket,
    *,
    key: str,
    label: str,
    before: str,
    after: str,
    expected_version: int | None = None,
) -> Event:
    """Record that `actor` changed the field `key` (shown as `label`) on `ticket` from `before`
    to `after` (display strings), and bump the ticket's version. Asks policy first: the caller
    (customfields.services) writes the typed answer in the same transaction."""
    denied = _("You cannot change this ticket's details.")
    if not policy.can_edit_ticket_fields(actor, ticket):
        raise _deny(denied)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(ticket, expected_version)
        if not policy.can_edit_ticket_fields(actor, locked):
            raise _deny(denied)
        event = _event(
            locked,
            actor,
            EventKind.FIELD_CHANGED,
            before,
            after,
            now=now,
            key=key,
            label=label,
            before_full=before[:MAX_RECORDED],
            after_full=after[:MAX_RECORDED],
        )
        _touch(locked, now)
        ticket.version = locked.version
        ticket.updated_at = locked.updated_at
    return event
