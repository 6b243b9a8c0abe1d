"""The escalation job: `run(now)` finds the tickets each active rule applies to and has the ticket
services act on them (tessera/tickets/services/escalation.py).

A rule acts once per ticket per breach. The candidates are read through indexes (open tickets by
due time; open tickets by when an agent last spoke, see the migration's index), leaving out
tickets the rule already acted on after the breach began. For each, an EscalationRun row is
inserted first, in the ticket's transaction: a second runner, in this process or another, cannot
insert the same (rule, ticket, breach) and leaves the ticket alone; if the ticket turns out no
longer in breach under its row lock, the row is rolled back with everything else.

A breach is new when it began after the rule last acted on the ticket: an agent's new due date
that passes again, or an agent's reply followed by a new silence. Raising the priority may pull
the due time further into the past; that is still the breach the rule acted on, so no loop.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from tessera.sla import clock, plans
from tessera.tickets import services
from tessera.tickets.models import Priority, State, Ticket

from .models import EscalationRule, EscalationRun, PriorityChange, Trigger

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class BreachFacts(TypedDict):
    breach_key: datetime


log = logging.getLogger(__name__)

# Tickets one rule handles per run; the next run takes the rest.
BATCH = 500


def run(now: datetime | None = None) -> int:
    """Apply every active escalation rule once; return how many tickets were escalated."""
    now = now or timezone.now()
    acted = 0
    rules = EscalationRule.objects.filter(is_active=True).select_related("priority", "assign_team", "assign_agent")
    for rule in rules.prefetch_related("notify__user"):
        for ticket_id, key in candidates(rule, now):
            try:
                if _act(rule, ticket_id, key, now):
                    acted += 1
            except Exception:
                # One ticket that fails (a deadlock, a deleted row) must not stop the others.
                log.exception("Escalation rule %s could not act on ticket %s", rule.name, ticket_id)
    return acted


def _quiet_since() -> Coalesce:
    """When an agent last answered, else when the ticket was opened: the silence's start."""
    return Coalesce(F("last_response_at"), F("created_at"))


def _breaching(rule: EscalationRule, now: datetime) -> QuerySet[WithAnnotations[Ticket, BreachFacts]]:
    """Open tickets past the rule's line by the wall clock, annotated with their `breach_key`.
    Wall-clock minutes are never fewer than business minutes, so this is a superset that the
    business-hours check narrows."""
    tickets = Ticket.objects.filter(state=State.OPEN)
    if rule.department_id is not None:
        tickets = tickets.filter(department_id=rule.department_id)
    if rule.trigger == Trigger.OVERDUE:
        return tickets.filter(due_at__lt=now).annotate(breach_key=F("due_at"))
    line = now - timedelta(minutes=rule.minutes or 0)
    return tickets.annotate(breach_key=_quiet_since()).filter(breach_key__lt=line)


def candidates(rule: EscalationRule, now: datetime) -> list[tuple[int, datetime]]:
    """(ticket id, breach key) of the tickets `rule` should act on now."""
    acted_since = EscalationRun.objects.filter(
        rule_id=rule.pk, ticket_id=OuterRef("pk"), created_at__gte=OuterRef("breach_key")
    )
    rows = list(
        _breaching(rule, now)
        .exclude(Exists(acted_since))
        .order_by("breach_key", "pk")
        .values_list("pk", "breach_key", "sla_plan_id")[:BATCH]
    )
    if rule.trigger == Trigger.OVERDUE:
        return [(pk, key) for pk, key, _plan in rows]
    return [(pk, key) for pk, key, plan in rows if _business_minutes(plan, key, now) >= (rule.minutes or 0)]


def _business_minutes(plan_id: int | None, since: datetime, now: datetime) -> int:
    """Minutes between `since` and `now` on the plan's schedule; around the clock without a plan."""
    found = plans.catalogue()
    plan = found.plans.get(plan_id) if plan_id is not None else None
    schedule = found.schedules.get(plan.schedule_id) if plan is not None else None
    if schedule is None:
        return int((now - since).total_seconds() // 60)
    try:
        return clock.business_minutes_between(since, now, schedule)
    except clock.NoWorkingTime:
        return int((now - since).total_seconds() // 60)


def _still_breached(rule: EscalationRule, ticket: Ticket, key: datetime, now: datetime) -> bool:
    if ticket.state != State.OPEN or (rule.department_id is not None and ticket.department_id != rule.department_id):
        return False
    if rule.trigger == Trigger.OVERDUE:
        return ticket.due_at == key and key < now
    return (ticket.last_response_at or ticket.created_at) == key


def _target_priority(rule: EscalationRule, ticket: Ticket) -> Priority | None:
    if rule.priority_change == PriorityChange.TO:
        return rule.priority
    if rule.priority_change == PriorityChange.STEP:
        # One step more urgent (urgency 1 is the most urgent).
        return Priority.objects.filter(urgency__lt=ticket.priority.urgency).order_by("-urgency").first()
    return None


def _act(rule: EscalationRule, ticket_id: int, key: datetime, now: datetime) -> bool:
    with transaction.atomic():
        try:
            with transaction.atomic():
                EscalationRun.objects.create(rule=rule, ticket_id=ticket_id, breach_key=key, created_at=now)
        except IntegrityError:
            return False  # another run acted on this breach
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("priority", "team", "assignee")
            .get(pk=ticket_id)
        )
        if not _still_breached(rule, ticket, key, now):
            transaction.set_rollback(True)  # answered, moved or closed meanwhile: no run to remember
            return False
        services.escalate(
            ticket,
            rule=rule.name,
            reason=rule.trigger,
            now=now,
            priority=_target_priority(rule, ticket),
            team=rule.assign_team,
            agent=rule.assign_agent,
            notify=list(rule.notify.all()),
        )
    return True
