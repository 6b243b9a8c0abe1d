"""Escalation: the writing half. An escalation rule (tessera.automation) that finds a ticket
overdue, or waiting too long for an agent, raises its priority, hands it to a team or agent and
tells named agents, each step with its Event, the system as actor. The rule's runner decides
when (tessera/automation/escalation.py); this module only changes the ticket.
Tests: tests/automation/test_escalation.py.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.utils.translation import gettext as _

from tessera.accounts.models import Agent, Team, User

from .. import notifications, policy
from ..models import EntryKind, EventKind, Priority, Source, Ticket
from .common import _entry, _event, _on_commit, _touch
from .sla import due_change, sla_refresh

log = logging.getLogger(__name__)

ESCALATION_NOTICE = "escalation_alert"


def escalate(
    ticket: Ticket,
    *,
    rule: str,
    reason: str,
    now: datetime,
    priority: Priority | None = None,
    team: Team | None = None,
    agent: Agent | None = None,
    notify: Sequence[Agent] = (),
) -> list[str]:
    """Apply one rule's actions to a ticket whose row the caller has locked in its transaction
    (after recording that the rule acts on this breach). Returns what it did ("priority",
    "team", "agent", "notified"); a step that would change nothing, or cannot be taken (a
    priority that is no raise, an agent who is away or may not be assigned), is left out.

    `rule` is the rule's name and `reason` its trigger, stored with each Event for its sentence."""
    data: dict[str, str] = {"auto": "escalation", "rule": rule, "reason": reason}
    done: list[str] = []
    fields: list[str] = []
    if priority is not None and priority.urgency < ticket.priority.urgency:
        before, due_before = ticket.priority.name, ticket.due_at
        ticket.priority = priority
        fields += ["priority", *sla_refresh(ticket, now)]
        _event(
            ticket,
            None,
            EventKind.PRIORITY,
            before,
            priority.name,
            now=now,
            priority_id=priority.pk,
            **data,
            **due_change(due_before, ticket),
        )
        done.append("priority")
    if team is not None and team.is_active and team.pk != ticket.team_id:
        before = ticket.team.name if ticket.team is not None else ""
        ticket.team = team
        _event(ticket, None, EventKind.ASSIGNED, before, team.name, now=now, team_id=team.pk, **data)
        fields.append("team")
        done.append("team")
        if agent is None and ticket.assignee is not None:
            # Handed to the team's pool, as a person handing it to a team would.
            _event(ticket, None, EventKind.RELEASED, ticket.assignee.name, "", now=now, **data)
            ticket.assignee = None
            fields.append("assignee")
    if agent is not None and agent.pk != ticket.assignee_id and _may_take(agent, ticket):
        before = ticket.assignee.name if ticket.assignee is not None else ""
        ticket.assignee = agent
        _event(ticket, None, EventKind.ASSIGNED, before, agent.name, now=now, agent_id=agent.pk, **data)
        fields.append("assignee")
        done.append("agent")
    told = [a for a in notify if a.is_active and a.user.is_active and policy.sees(a, ticket)]
    if len(told) < len(notify):
        log.info("Escalation rule %s: agents who cannot see ticket %s were not told", rule, ticket.number)
    if told:
        names = ", ".join(a.name for a in told)
        text = _("Escalation rule “%(rule)s”: told %(names)s.") % {"rule": rule, "names": names}
        entry = _entry(ticket, None, EntryKind.NOTE, text, Source.STAFF, now=now)
        _event(ticket, None, EventKind.NOTE, now=now, entry_id=entry.pk, **data)
        ticket_id, entry_id, user_ids = ticket.pk, entry.pk, [a.user_id for a in told]
        _on_commit(lambda: _tell(ticket_id, entry_id, user_ids, rule, reason))
        done.append("notified")
    if fields or told:
        _touch(ticket, now, *dict.fromkeys(fields))
    if "team" in done or "agent" in done:
        ticket_id = ticket.pk
        agent_id = agent.pk if "agent" in done and agent is not None else None
        team_id = team.pk if "team" in done and team is not None else None
        _on_commit(lambda: notifications.assigned(ticket_id, None, agent_id, team_id))
    return done


def _may_take(agent: Agent, ticket: Ticket) -> bool:
    if not (agent.is_active and agent.is_available and agent.user.is_active):
        return False
    return policy.may_be_assigned(agent, ticket)


def _tell(ticket_id: int, entry_id: int, user_ids: list[int], rule: str, reason: str) -> None:
    """After the commit: one escalation alert per named agent, through the registered carrier."""
    ticket = Ticket.objects.select_related("user").get(pk=ticket_id)
    entry = ticket.entries.filter(pk=entry_id).first()
    carrier = notifications.carrier()
    for user in User.objects.filter(pk__in=user_ids, is_active=True):
        try:
            carrier.send(ESCALATION_NOTICE, ticket, user, entry, {"rule": rule, "reason": reason})
        except Exception:
            # One recipient's failure must not keep the others from hearing.
            log.exception("Could not queue the escalation alert for ticket %s to %s", ticket.number, user.pk)
