"""Who gets a ticket that nobody has, when its department or team assigns automatically.

The ticket services call `choose` (tessera/tickets/services/auto_assign.py), inside the
transaction that opened or moved the ticket, and write the assignment and its Event.

A ticket handed to a team follows the team's mode (its members are the candidates; a team left
on manual keeps the ticket in its pool); any other ticket follows its department's mode, among
the department's members whose role lets them answer or assign it (the agents who could claim it
themselves, policy's CLAIM rule). Agents who are away (`Agent.is_available` off, the profile's
vacation switch), inactive, or already at the department's open-ticket limit are passed over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from tessera.accounts.models import Agent, AssignmentMode, Perm, Role
from tessera.tickets import policy
from tessera.tickets.models import ACTIVE_STATES, Ticket

from .models import AssignmentCursor

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


@dataclass(frozen=True)
class Choice:
    agent: Agent
    mode: str  # an AssignmentMode value other than MANUAL


def choose(ticket: Ticket) -> Choice | None:
    """The agent who should get `ticket` now, or None (manual mode, or nobody can take it: the
    ticket then waits unassigned in its queue). Locks the scope's round-robin row until the
    caller's transaction ends, so concurrent tickets take their turns one after the other."""
    if ticket.assignee_id is not None or not ticket.is_active:
        return None
    team = ticket.team if ticket.team_id is not None else None
    if team is not None:
        mode = team.assignment_mode if team.is_active else AssignmentMode.MANUAL
        scope = f"team:{team.pk}"
        candidates = Agent.objects.filter(teams=team)
    else:
        department = ticket.department
        mode = department.assignment_mode
        if mode == AssignmentMode.MANUAL:  # most desks: no query at all on intake
            return None
        scope = f"department:{department.pk}"
        working_roles = [r.pk for r in Role.objects.all() if r.grants(Perm.REPLY) or r.grants(Perm.ASSIGN)]
        candidates = Agent.objects.filter(
            memberships__department_id=department.pk, memberships__role_id__in=working_roles
        )
    if mode == AssignmentMode.MANUAL:
        return None
    cursor = _locked_cursor(scope)
    # Read after the lock: the counts include what a concurrent assignment just committed.
    agents = _eligible(candidates, ticket)
    if not agents:
        return None
    if mode == AssignmentMode.FEWEST_OPEN:
        # The least busy; among equals, the next in turn, so ties do not always favour one agent.
        fewest = min(a.open_tickets for a in agents)
        agents = [a for a in agents if a.open_tickets == fewest]
    last = cursor.last_agent_pk or 0
    chosen = next((a for a in agents if a.pk > last), agents[0])
    cursor.last_agent_pk = chosen.pk
    cursor.updated_at = timezone.now()
    cursor.save(update_fields=["last_agent_pk", "updated_at"])
    return Choice(chosen, mode)


class LoadFacts(TypedDict):
    open_tickets: int


if TYPE_CHECKING:
    Counted = WithAnnotations[Agent, LoadFacts]  # an Agent with its number of open tickets


def _eligible(candidates: QuerySet[Agent], ticket: Ticket) -> list[Counted]:
    """The candidates who may take the ticket now, in a fixed order (by id), each with how many
    open or pending tickets they hold (the assignee index answers it)."""
    open_count = (
        Ticket.objects.filter(assignee_id=OuterRef("pk"), state__in=ACTIVE_STATES)
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        Agent.objects.filter(pk__in=candidates.values("pk"))
        .filter(is_active=True, is_available=True, user__is_active=True)
        .select_related("user")
        .annotate(open_tickets=Coalesce(Subquery(open_count, output_field=IntegerField()), 0))
        .order_by("pk")
    )
    limit = ticket.department.open_ticket_limit
    return [
        agent
        for agent in rows
        if (limit is None or agent.open_tickets < limit) and policy.may_be_assigned(agent, ticket)
    ]


def _locked_cursor(scope: str) -> AssignmentCursor:
    # Made on first use without a race (a concurrent maker's row wins), then locked.
    AssignmentCursor.objects.bulk_create([AssignmentCursor(scope=scope)], ignore_conflicts=True)
    return AssignmentCursor.objects.select_for_update().get(scope=scope)
