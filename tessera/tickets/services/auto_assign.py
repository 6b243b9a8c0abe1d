"""Automatic assignment: the writing half. A department or team that hands out tickets by itself
(round robin, fewest open tickets) gets each new ticket, and each ticket moved to it without an
agent, assigned here inside the transaction that opened or moved it; who gets it is decided by
tessera.automation.assignment. Tests: tests/automation/test_auto_assignment.py.
"""

from __future__ import annotations

from datetime import datetime

from tessera.automation import assignment

from .. import notifications
from ..models import EventKind, Ticket
from .common import _event, _on_commit


def assign_automatically(ticket: Ticket, *, now: datetime) -> list[str]:
    """Give the (locked or just created) ticket to the agent its department's or team's mode
    chooses; return the fields changed, for the caller's save (nothing when the ticket already
    has an agent, the mode is manual or nobody can take it: it then waits in the queue).

    The Event's actor is the system; `auto` in its data names the mode, for its sentence."""
    choice = assignment.choose(ticket)
    if choice is None:
        return []
    agent = choice.agent
    ticket.assignee = agent
    _event(ticket, None, EventKind.ASSIGNED, "", agent.name, now=now, agent_id=agent.pk, auto=choice.mode)
    ticket_id, agent_id = ticket.pk, agent.pk
    _on_commit(lambda: notifications.assigned(ticket_id, None, agent_id, None))
    return ["assignee"]


def assign_new_ticket(ticket: Ticket, *, now: datetime) -> None:
    """`assign_automatically` for a ticket being opened, saving what it changed."""
    changed = assign_automatically(ticket, now=now)
    if changed:
        ticket.save(update_fields=changed)
