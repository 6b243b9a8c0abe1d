"""Service levels on a ticket: its plan, its due times and the clock that stops while it waits.

The services that change what a due time depends on (opening, priority, status, department,
the first response) call `sla_refresh` on the locked ticket and save the fields it returns with
their own change; `due_change` puts the moved due time in that change's Event. An agent may choose
the plan (`set_sla_plan`) or a due date of their own (`set_due_date`, which wins over the plan,
as in osTicket). Tests: tests/sla/test_ticket_due_times.py.

The clock runs only while the ticket is open: leaving "open" (waiting on the customer, resolved,
closed) stops it at `sla_paused_at`, coming back appends the stop to `sla_pauses`. While the
ticket is pending its plan's due times are empty (nothing is due from the desk); once resolved
or closed they stay as they were, for the record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, User
from tessera.sla import plans
from tessera.sla.models import SlaPlan

from .. import notifications
from ..models import EntryKind, EventKind, HelpTopic, Priority, Source, State, Ticket
from ..policy import Action
from .common import _entry, _event, _lock, _on_commit, _require, _touch, _validate_note

SLA_FIELDS = (
    "sla_plan",
    "first_response_due_at",
    "due_at",
    "first_response_breached",
    "resolution_breached",
    "sla_paused_at",
    "sla_pauses",
    "first_response_warn_at",
    "resolution_warn_at",
    "first_response_warned_at",
    "resolution_warned_at",
)


def _pauses(ticket: Ticket) -> list[tuple[datetime, datetime]]:
    found = []
    for pair in ticket.sla_pauses or []:
        start, end = (parse_datetime(value) for value in pair)
        if start is not None and end is not None:
            found.append((start, end))
    return found


def initial_sla(
    *, topic: HelpTopic | None, department: Department, priority: Priority, created_at: datetime
) -> dict[str, Any]:
    """The SLA columns of a ticket about to be created (so opening one costs no extra statement)."""
    plan_id = plans.resolve_plan(topic.sla_plan_id if topic else None, department.sla_plan_id)
    due = plans.due_times(plan_id, priority.pk, created_at)
    return {
        "sla_plan_id": plan_id,
        "first_response_due_at": due.first_response,
        "due_at": due.resolution,
        "first_response_warn_at": due.first_response_warn,
        "resolution_warn_at": due.resolution_warn,
    }


def manual_warn_at(plan_id: int | None, due_at: datetime, now: datetime) -> datetime:
    """An agent's own due date has no business-hours target: warn at the plan's share of the
    wall-clock time left when it was set."""
    return now + (due_at - now) * plans.warn_percent(plan_id) / 100


def sla_refresh(ticket: Ticket, now: datetime, *, replan: bool = False) -> list[str]:
    """Bring the (locked, already changed) ticket's plan, clock and due times up to date; return
    the fields that changed, for the caller's save.

    `replan`: its help topic or department changed, so the plan is looked up again, unless an
    agent chose it. A ticket without a plan (opened before plans existed) gets one here."""
    before = {name: getattr(ticket, name if name != "sla_plan" else "sla_plan_id") for name in SLA_FIELDS}
    if (replan and not ticket.sla_plan_fixed) or ticket.sla_plan_id is None:
        topic_plan = ticket.topic.sla_plan_id if ticket.topic_id is not None and ticket.topic else None
        ticket.sla_plan_id = plans.resolve_plan(topic_plan, ticket.department.sla_plan_id)
    running = ticket.state == State.OPEN
    if running and ticket.sla_paused_at is not None:
        if now > ticket.sla_paused_at:
            ticket.sla_pauses = [*(ticket.sla_pauses or []), [ticket.sla_paused_at.isoformat(), now.isoformat()]]
        ticket.sla_paused_at = None
    elif not running and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
        if ticket.state in (State.RESOLVED, State.CLOSED) and ticket.due_at is not None and now > ticket.due_at:
            ticket.resolution_breached = True
    if ticket.state in (State.OPEN, State.PENDING) and (ticket.sla_plan_id is not None or before["sla_plan"]):
        due = (
            plans.due_times(ticket.sla_plan_id, ticket.priority_id, ticket.created_at, _pauses(ticket))
            if running
            else plans.DueTimes(None, None)
        )
        if ticket.first_response_at is None:
            ticket.first_response_due_at = due.first_response
            ticket.first_response_warn_at = due.first_response_warn
            if due.first_response is not None and due.first_response > now:
                ticket.first_response_breached = False  # moved into the future: a later breach counts again
            if due.first_response_warn is not None and due.first_response_warn > now:
                ticket.first_response_warned_at = None  # likewise the warning
        if not ticket.due_is_manual:
            ticket.due_at = due.resolution
            ticket.resolution_warn_at = due.resolution_warn
            if due.resolution is not None and due.resolution > now:
                ticket.resolution_breached = False
            if due.resolution_warn is not None and due.resolution_warn > now:
                ticket.resolution_warned_at = None
    after = {name: getattr(ticket, name if name != "sla_plan" else "sla_plan_id") for name in SLA_FIELDS}
    return [name for name in SLA_FIELDS if before[name] != after[name]]


def note_first_response(ticket: Ticket, now: datetime) -> list[str]:
    """An agent's first public reply: was it in time?"""
    if ticket.first_response_at is not None or ticket.first_response_due_at is None:
        return []
    if now > ticket.first_response_due_at and not ticket.first_response_breached:
        ticket.first_response_breached = True
        return ["first_response_breached"]
    return []


def due_change(before: datetime | None, ticket: Ticket) -> dict[str, str | None]:
    """The Event data for a resolution due time that moved (nothing when it did not)."""
    if before == ticket.due_at:
        return {}
    return {
        "due_before": before.isoformat() if before else None,
        "due_at": ticket.due_at.isoformat() if ticket.due_at else None,
    }


def set_sla_plan(actor: User, ticket: Ticket, *, plan: SlaPlan | None, expected_version: int | None = None) -> Ticket:
    """Put the ticket on another plan, or (None) back on the plan its topic or department gives.
    Due times are recomputed from when the ticket was opened."""
    denied = _("You cannot change this ticket's SLA plan.")
    _require(actor, Action.SLA_PLAN, ticket, denied)
    if plan is not None and not plan.is_active:
        raise ValidationError({"plan": _("The plan %(name)s is not active.") % {"name": plan.name}})
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Action.SLA_PLAN, message=denied)
        if plan is not None and ticket.sla_plan_fixed and ticket.sla_plan_id == plan.pk:
            raise ValidationError({"plan": _("The ticket is already on %(name)s.") % {"name": plan.name}})
        before_name = ticket.sla_plan.name if ticket.sla_plan is not None else ""
        due_before = ticket.due_at
        ticket.sla_plan_fixed = plan is not None
        if plan is not None:
            ticket.sla_plan = plan
        fields = sla_refresh(ticket, now, replan=plan is None)
        after = plans.catalogue().plans.get(ticket.sla_plan_id) if ticket.sla_plan_id else None
        after_name = after.name if after is not None else ""
        _event(
            ticket,
            actor,
            EventKind.SLA_PLAN,
            before_name,
            after_name,
            now=now,
            plan_id=ticket.sla_plan_id,
            chosen="yes" if plan is not None else "no",
            **due_change(due_before, ticket),
        )
        # sla_plan was set before sla_refresh looked, so it is saved whether or not it says so.
        _touch(ticket, now, *dict.fromkeys(("sla_plan_fixed", "sla_plan", *fields)))
    return ticket


def set_due_date(
    actor: User, ticket: Ticket, *, due_at: datetime | None, note: str = "", expected_version: int | None = None
) -> Ticket:
    """An agent's own due date, which wins over the plan's; None gives the plan's back."""
    denied = _("You cannot change this ticket's due date.")
    _require(actor, Action.DUE_DATE, ticket, denied)
    _validate_note(note)
    now = timezone.now()
    if due_at is not None:
        if timezone.is_naive(due_at):
            raise ValidationError({"due_at": _("Give the due date with its time zone.")})
        if due_at <= now:
            raise ValidationError({"due_at": _("Choose a due date in the future.")})
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Action.DUE_DATE, message=denied)
        if due_at is None and not ticket.due_is_manual:
            raise ValidationError({"due_at": _("The ticket already follows its plan's due date.")})
        due_before = ticket.due_at
        if due_at is not None:
            ticket.due_is_manual = True
            ticket.due_at = due_at
            ticket.resolution_breached = False
            ticket.resolution_warn_at = manual_warn_at(ticket.sla_plan_id, due_at, now)
            ticket.resolution_warned_at = None
            fields = ["due_at", "resolution_breached", "resolution_warn_at", "resolution_warned_at"]
        else:
            ticket.due_is_manual = False
            fields = sla_refresh(ticket, now)
        # The times go in the data, so the timeline can show them in each viewer's zone.
        _event(
            ticket,
            actor,
            EventKind.DUE_DATE,
            now=now,
            manual="yes" if due_at is not None else "no",
            due_before=due_before.isoformat() if due_before else None,
            due_at=ticket.due_at.isoformat() if ticket.due_at else None,
        )
        if note.strip():
            _entry(ticket, actor, EntryKind.NOTE, note, Source.STAFF, now=now)
        _touch(ticket, now, "due_is_manual", *dict.fromkeys(fields))
    return ticket


# ---------------------------------------------------------------------------- the SLA scan's step

# (due column, warning column, breached flag, warned column) of each target.
TARGET_COLUMNS = {
    "first_response": (
        "first_response_due_at",
        "first_response_warn_at",
        "first_response_breached",
        "first_response_warned_at",
    ),
    "resolution": ("due_at", "resolution_warn_at", "resolution_breached", "resolution_warned_at"),
}


def pending_alerts(target: str, *, breach: bool, now: datetime) -> QuerySet[Ticket]:
    """The open tickets whose `target` is past due (`breach`) or past its warning time, and not
    yet marked so: each a range scan of one partial index (Ticket.Meta, ticket_sla_*)."""
    due, warn, breached, warned = TARGET_COLUMNS[target]
    qs = Ticket.objects.filter(state=State.OPEN)
    if target == "first_response":
        qs = qs.filter(first_response_at__isnull=True)
    if breach:
        return qs.filter(**{breached: False, f"{due}__lte": now}).order_by(due)
    return qs.filter(**{f"{warned}__isnull": True, f"{warn}__lte": now}).order_by(warn)


def record_sla_alert(ticket_id: int, target: str, *, breach: bool, now: datetime | None = None) -> bool:
    """Mark one target of one ticket warned or breached, with its timeline Event and alert.

    The mark is a conditional UPDATE that repeats the scan's condition (`pending_alerts`), so
    whatever number of scans run at once, only the one whose UPDATE matched writes the Event and
    queues the alert; a ticket answered, paused or moved meanwhile is left alone. True when this
    call made the mark and told someone.

    Neither the version nor the update time moves: a deadline passing is not an edit, so no
    agent's open form becomes stale and no queue reorders. A warning whose target is already
    past due is marked without a word: the breach alert says more."""
    now = now or timezone.now()
    due, _warn, breached, warned = TARGET_COLUMNS[target]
    with transaction.atomic():
        claimed = (
            pending_alerts(target, breach=breach, now=now)
            .filter(pk=ticket_id)
            .order_by()
            .update(**({breached: True} if breach else {warned: now}))
        )
        if not claimed:
            return False
        ticket = Ticket.objects.get(pk=ticket_id)
        due_at: datetime | None = getattr(ticket, due)
        if not breach and (due_at is None or due_at <= now):
            return False
        _event(
            ticket,
            None,
            EventKind.SLA_BREACHED if breach else EventKind.SLA_WARNING,
            now=now,
            target=target,
            due_at=due_at.isoformat() if due_at else None,
        )
        _on_commit(lambda: notifications.sla_alert(ticket_id, target, breach=breach))
    return True
