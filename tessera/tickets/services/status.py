"""Priority and status: escalate, resolve, close, reopen or park a ticket.

Closing and archiving need the close permission, every other status the status permission.
Tests: tests/tickets/test_priority_and_status.py.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User

from .. import close_guards, notifications, policy
from ..models import EntryKind, EventKind, Priority, Source, State, Status, Ticket
from ..policy import Action
from .common import _deny, _entry, _event, _lock, _on_commit, _require, _touch, _validate_note, default_status
from .sla import due_change, sla_refresh


def set_priority(
    actor: User, ticket: Ticket, *, priority: Priority, note: str = "", expected_version: int | None = None
) -> Ticket:
    denied = _("You cannot change this ticket's priority.")
    _require(actor, Action.PRIORITY, ticket, denied)
    _validate_note(note)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Action.PRIORITY, message=denied)
        if priority.pk == ticket.priority_id:
            raise ValidationError({"priority": _("The priority is already %(name)s.") % {"name": priority.name}})
        before = ticket.priority.name
        due_before = ticket.due_at
        ticket.priority = priority
        sla_fields = sla_refresh(ticket, now)
        _event(
            ticket,
            actor,
            EventKind.PRIORITY,
            before,
            priority.name,
            now=now,
            priority_id=priority.pk,
            **due_change(due_before, ticket),
        )
        if note.strip():
            _entry(ticket, actor, EntryKind.NOTE, note, Source.STAFF, now=now)
        _touch(ticket, now, "priority", *sla_fields)
    return ticket


def _apply_status(
    actor: User, ticket: Ticket, status: Status, now: datetime, *, confirm_close: bool = False
) -> list[str]:
    """Move the (locked) ticket to `status` and record it; the caller saves the returned fields.

    Closing or archiving asks the registered close guards first (tickets.close_guards: open
    tasks refuse it unless `confirm_close`, which closes them with the ticket)."""
    if not policy.can_set_status(actor, ticket, status.state):
        raise _deny(_("You cannot set this ticket to %(status)s.") % {"status": status.name})
    before = ticket.status
    old_state = ticket.state
    ending = (State.CLOSED, State.ARCHIVED)
    if status.state in ending and old_state not in ending:
        close_guards.check(actor, ticket, confirmed=confirm_close, now=now)
    due_before = ticket.due_at
    ticket.status = status
    ticket.state = status.state
    if status.state == State.RESOLVED:
        ticket.resolved_at = now
    if status.state == State.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif status.state != State.ARCHIVED:
        ticket.closed_at = None
    if status.state in (State.OPEN, State.PENDING) and old_state in (State.RESOLVED, State.CLOSED):
        ticket.resolved_at = None
        _event(ticket, actor, EventKind.REOPENED, before.name, status.name, now=now)
    sla_fields = sla_refresh(ticket, now)
    _event(
        ticket,
        actor,
        EventKind.STATUS,
        before.name,
        status.name,
        now=now,
        state=status.state,
        **due_change(due_before, ticket),
    )
    ticket_id, actor_id = ticket.pk, actor.pk
    _on_commit(lambda: notifications.status_changed(ticket_id, actor_id, old_state, status.state))
    return ["status", "state", "resolved_at", "closed_at", *sla_fields]


def set_status(
    actor: User,
    ticket: Ticket,
    *,
    status: Status,
    note: str = "",
    expected_version: int | None = None,
    confirm_close: bool = False,
) -> Ticket:
    """Resolve, close, reopen or park a ticket by choosing one of the admin-defined statuses.

    A close the guards refuse (open tasks) raises close_guards.CloseRefused unless
    `confirm_close`, which settles that work in the same transaction."""
    if not policy.can_set_status(actor, ticket, status.state):
        raise _deny(_("You cannot set this ticket to %(status)s.") % {"status": status.name})
    _validate_note(note)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version)
        if status.pk == ticket.status_id:
            raise ValidationError({"status": _("The ticket is already %(name)s.") % {"name": status.name}})
        fields = _apply_status(actor, ticket, status, now, confirm_close=confirm_close)
        if note.strip():
            _entry(ticket, actor, EntryKind.NOTE, note, Source.STAFF, now=now)
        _touch(ticket, now, *fields)
    return ticket


def close_by_user(actor: User, ticket: Ticket) -> Ticket:
    """The end user says they are done."""
    _require(actor, Action.CLOSE, ticket, _("You cannot close this ticket."))
    return set_status(actor, ticket, status=default_status(State.CLOSED))
