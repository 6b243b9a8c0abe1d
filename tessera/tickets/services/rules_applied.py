"""Routing rules on a new ticket: ask the engine (tessera/rules/engine.py), apply its plan inside
the creating transaction, and leave one timeline Event per rule that acted.

open_ticket calls these before it computes the SLA columns, so a rule's department, priority
and plan decide the due times. A rule that rejects raises `TicketRefused` (a ValidationError,
so every form shows it and keeps what was typed); the submission is kept as a `rules.Refusal`
once the refused transaction has rolled back (`record_refusal`). Tests: tests/rules/.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, User
from tessera.accounts.services import end_user_for_email
from tessera.rules import engine
from tessera.rules.models import Field, Refusal, Rule
from tessera.sla import plans

from .. import policy
from ..models import Collaborator, EventKind, HelpTopic, Priority, State, Status, Ticket
from .common import _event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """What was sent, kept with a refusal (the refused transaction keeps nothing)."""

    channel: str
    sender: str
    subject: str
    message: str


class TicketRefused(ValidationError):
    """A routing rule rejected the new ticket. The message is for the person who sent it."""

    def __init__(self, rejection: engine.Rejection, submission: Submission, applied: Sequence[int]) -> None:
        text = _("The help desk does not accept this request.")
        if rejection.reason:
            text = _("The help desk does not accept this request: %(reason)s") % {"reason": rejection.reason}
        super().__init__(text, code="refused_by_rule")
        self.rejection = rejection
        self.submission = submission
        self.applied = list(applied)


def routing_plan(
    *,
    requester: User,
    subject: str,
    message: str,
    source: str,
    topic: HelpTopic | None,
    priority: Priority,
    recipients: Sequence[str] = (),
    custom: Mapping[str, tuple[str, ...]] | None = None,
) -> engine.Plan:
    """The rules' plan for a ticket about to be opened (no query unless a rule looks at the
    organisation, or the rules changed). `custom`: the answers to custom fields given with it,
    as texts by field key (intake_hooks.rule_values), not yet saved."""
    compiled = engine.active_rules()
    if not compiled.rules:
        return engine.Plan()
    organization = ""
    if Field.ORGANIZATION in compiled.fields and requester.organization_id is not None:
        organization = requester.organization.name if requester.organization else ""
    sample = engine.Sample(
        channel=source,
        sender=requester.email,
        recipients=tuple(recipients),
        subject=subject,
        body=message,
        topic=topic.name if topic is not None else "",
        organization=organization,
        priority=priority.name,
        custom=dict(custom or {}),
    )
    plan = engine.evaluate(sample, compiled)
    if plan.problems:
        _note_problems(plan, timezone.now())
    return plan


def refuse(rejection: engine.Rejection, plan: engine.Plan, submission: Submission) -> TicketRefused:
    return TicketRefused(rejection, submission, [a.rule_id for a in plan.applied])


def record_refusal(refused: TicketRefused) -> None:
    """Keep a rejected submission for the administrator and count the rules that matched.
    Called once the refused transaction is over, so neither is rolled back with it."""
    now = timezone.now()
    _count(refused.applied, now)
    submission = refused.submission
    Refusal.objects.create(
        created_at=now,
        rule_id=refused.rejection.rule_id,
        rule_name=refused.rejection.rule_name[:120],
        channel=submission.channel,
        sender=submission.sender[:254],
        subject=submission.subject[:255],
        message=submission.message,
        reason=refused.rejection.reason,
    )


def count_refusal(refused: TicketRefused) -> None:
    """Count the rules that matched a refused submission kept elsewhere (mail's InboundMessage)."""
    _count(refused.applied, timezone.now())


def _count(rule_ids: Sequence[int], now: datetime) -> None:
    # One conditional UPDATE for all of them: concurrent tickets never lose a count.
    if rule_ids:
        Rule.objects.filter(pk__in=rule_ids).update(match_count=F("match_count") + 1, last_matched_at=now)


def _note_problems(plan: engine.Plan, now: datetime) -> None:
    for rule_id, problem in plan.problems.items():
        Rule.objects.filter(pk=rule_id).update(last_error=problem[:500], last_error_at=now)


def sla_columns(
    plan: engine.Plan, *, topic: HelpTopic | None, department: Department, priority: Priority, now: datetime
) -> dict[str, Any] | None:
    """A rule's SLA plan wins over the topic's and the department's, and stays when the ticket
    moves (sla_plan_fixed). None: no rule chose one."""
    if plan.sla_plan is None:
        return None
    plan_id = plans.resolve_plan(plan.sla_plan.pk, topic.sla_plan_id if topic else None, department.sla_plan_id)
    due = plans.due_times(plan_id, priority.pk, now)
    return {
        "sla_plan_id": plan_id,
        "sla_plan_fixed": plan_id == plan.sla_plan.pk,
        "first_response_due_at": due.first_response,
        "due_at": due.resolution,
    }


def state_columns(status: Status, now: datetime) -> dict[str, Any]:
    """A rule may open a ticket in a status other than open: the clock then stands still."""
    if status.state == State.OPEN:
        return {}
    columns: dict[str, Any] = {"sla_paused_at": now}
    if status.state == State.PENDING:
        columns.update(first_response_due_at=None, due_at=None)
    if status.state in (State.RESOLVED, State.CLOSED, State.ARCHIVED):
        columns["resolved_at"] = now
    if status.state in (State.CLOSED, State.ARCHIVED):
        columns["closed_at"] = now
    return columns


def assignable(plan: engine.Plan, department: Department) -> engine.Plan:
    """Drop the agent a rule chose when the department restricts assignment to people who do not
    include them (noted on the rule, the ticket still opens)."""
    if plan.agent is None:
        return plan
    probe = Ticket(department=department, team=plan.team)
    if not plan.agent.user.is_active or not policy.may_be_assigned(
        plan.agent, probe, department=department, team=plan.team
    ):
        rule_id = plan.set_by.get("agent", 0)
        problem = _("%(agent)s may not be assigned tickets in %(department)s; the ticket was left unassigned.") % {
            "agent": plan.agent.name,
            "department": department.name,
        }
        log.warning("Routing rule %s: %s", rule_id, problem)
        if rule_id:
            Rule.objects.filter(pk=rule_id).update(last_error=problem[:500], last_error_at=timezone.now())
        plan.agent = None
    return plan


def apply_after_create(ticket: Ticket, plan: engine.Plan, now: datetime) -> None:
    """Within the creating transaction, once the ticket exists: copy the addresses the rules
    named, write one Event per rule that acted, and count their matches."""
    if not plan.acted:
        return
    for address in plan.collaborators:
        _copy(ticket, address, now)
    for applied in plan.applied:
        _event(
            ticket,
            None,
            EventKind.RULE_APPLIED,
            after=applied.name,
            now=now,
            rule_id=applied.rule_id,
            actions="; ".join(applied.actions)[:1000],
        )
    _count([a.rule_id for a in plan.applied], now)


def _copy(ticket: Ticket, address: str, now: datetime) -> None:
    try:
        with transaction.atomic():
            user = end_user_for_email(email=address)
            if user.pk == ticket.user_id or not user.is_active:
                return
            _collab, created = Collaborator.objects.get_or_create(
                ticket=ticket, user=user, defaults={"created_at": now}
            )
            if created:
                _event(ticket, None, EventKind.COLLABORATOR_ADDED, "", user.email, now=now, user_id=user.pk, by="rule")
    except ValidationError as exc:
        # An address an administrator mistyped must not stop intake.
        log.warning("Routing rule could not copy %r on %s: %s", address, ticket.reference, exc)
