"""Reads for queues, counts and the ticket page: index-backed, with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from django.db.models import Prefetch, QuerySet

from tessera.accounts.models import Agent, Department, Membership, Team, User

from . import policy
from .models import (
    ACTIVE_STATES,
    Attachment,
    Collaborator,
    EntryKind,
    Event,
    Priority,
    Referral,
    State,
    Status,
    ThreadEntry,
    Ticket,
)

QUEUE_PAGE_SIZE = 50
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str


def _queues():
    from django.utils.translation import gettext_lazy as _

    return [
        Queue("mine", _("My tickets")),
        Queue("teams", _("My teams")),
        Queue("unassigned", _("Unassigned")),
        Queue("open", _("Open in my departments")),
        Queue("following", _("Following")),
        Queue("closed", _("Closed")),
    ]


QUEUES = _queues()
QUEUE_SLUGS = {q.slug for q in QUEUES}


def queue_tickets(agent: Agent, slug: str) -> QuerySet[Ticket]:
    """The tickets in one of the system queues, newest activity first."""
    qs = policy.visible_tickets(agent)
    if slug == "mine":
        qs = qs.filter(assignee=agent, state__in=ACTIVE_STATES)
    elif slug == "teams":
        qs = qs.filter(team__in=agent.teams.all(), state__in=ACTIVE_STATES)
    elif slug == "unassigned":
        qs = qs.filter(assignee__isnull=True, team__isnull=True, state__in=ACTIVE_STATES)
    elif slug == "open":
        qs = qs.filter(department_id__in=policy.department_ids(agent), state__in=(*ACTIVE_STATES, State.RESOLVED))
    elif slug == "following":
        # Tickets the agent escalated out of their reach: they follow them until closed.
        referred = Referral.objects.filter(agent=agent).values("ticket_id")
        qs = qs.filter(pk__in=referred, state__in=(*ACTIVE_STATES, State.RESOLVED))
    elif slug == "closed":
        qs = qs.filter(state=State.CLOSED)
    else:
        raise ValueError(slug)
    return qs.order_by("-updated_at", "-id")


def queue_page(agent: Agent, slug: str, *, before: tuple[datetime, int] | None = None) -> tuple[list[Ticket], bool]:
    """One page of a queue, by keyset: (updated_at, id) of the last row seen, never OFFSET."""
    from django.db.models import Q

    qs = queue_tickets(agent, slug).select_related("user", "priority", "status", "assignee__user", "team", "department")
    if before is not None:
        updated_at, pk = before
        qs = qs.filter(Q(updated_at__lt=updated_at) | Q(updated_at=updated_at, id__lt=pk))
    rows = list(qs[: QUEUE_PAGE_SIZE + 1])
    return rows[:QUEUE_PAGE_SIZE], len(rows) > QUEUE_PAGE_SIZE


def queue_counts(agent: Agent) -> dict[str, int]:
    """Per-queue counts, capped at COUNT_CAP + 1 (shown as "10,000+") so a huge queue
    never costs a full scan: COUNT(*) runs over a LIMITed id subquery."""
    counts = {}
    for q in QUEUES:
        ids = queue_tickets(agent, q.slug).order_by().values("id")[: COUNT_CAP + 1]
        counts[q.slug] = Ticket.objects.filter(id__in=ids).count()
    return counts


def ticket_for_agent(agent: Agent, number: int) -> Ticket | None:
    return (
        policy.visible_tickets(agent)
        .select_related("user", "organization", "priority", "status", "department", "topic", "assignee__user", "team")
        .filter(number=number)
        .first()
    )


def timeline(ticket: Ticket, *, include_internal: bool) -> list[ThreadEntry | Event]:
    """Messages, responses, notes and events interleaved by time."""
    entries = ThreadEntry.objects.filter(ticket=ticket).prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    if not include_internal:
        entries = entries.exclude(kind=EntryKind.NOTE)
    items: list[ThreadEntry | Event] = list(entries.order_by("created_at", "id"))
    if include_internal:
        events = Event.objects.filter(ticket=ticket).exclude(kind="note").order_by("created_at", "id")
        items = sorted(chain(items, events), key=lambda i: (i.created_at, isinstance(i, Event), i.pk))
    return items


def tickets_of_user(user: User) -> QuerySet[Ticket]:
    """What an end user sees on the portal: tickets they opened or are copied on."""
    from django.db.models import Q

    copied = Ticket.objects.filter(collaborators__user=user).values("pk")
    return (
        Ticket.objects.filter(Q(user=user) | Q(pk__in=copied))
        .select_related("status", "department")
        .order_by("-created_at", "-id")
    )


# ---------------------------------------------------------------------------- agent workspace forms
#
# The ticket page offers every choice a form needs (agents, teams, departments, statuses,
# priorities) from one query each, so the page's query count does not depend on the desk's size
# beyond these lists, and the forms validate against the same lists without asking again.


def status_choices() -> list[Status]:
    return list(Status.objects.order_by("order", "name"))


def priority_choices() -> list[Priority]:
    return list(Priority.objects.order_by("urgency"))


def department_choices() -> list[Department]:
    return list(Department.objects.order_by("name"))


def team_choices() -> list[Team]:
    return list(Team.objects.filter(is_active=True).order_by("name"))


def agent_choices(department_id: int) -> list[Agent]:
    """Agents who can take a ticket, each annotated with `in_department` (a member of the
    ticket's department, listed first by the forms) and `primary_department` (a name, so a
    transfer form can say where each agent works), in one query."""
    from django.db.models import Exists, OuterRef, Subquery

    primary = Membership.objects.filter(agent=OuterRef("pk"), is_primary=True).values("department__name")[:1]
    member = Membership.objects.filter(agent=OuterRef("pk"), department_id=department_id)
    return list(
        Agent.objects.filter(is_active=True, is_available=True, user__is_active=True)
        .select_related("user")
        .annotate(in_department=Exists(member), primary_department=Subquery(primary))
        .order_by("user__name", "user__email")
    )


def collaborators(ticket: Ticket) -> list[Collaborator]:
    return list(Collaborator.objects.filter(ticket=ticket).select_related("user").order_by("created_at", "id"))


def attachment_with_ticket(attachment_id: int) -> Attachment | None:
    """An attachment with the ticket it belongs to, so the caller can ask policy about that ticket."""
    return Attachment.objects.select_related("entry__ticket").filter(pk=attachment_id).first()
