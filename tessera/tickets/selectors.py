"""Reads for queues, counts and the ticket page: index-backed, with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from typing import TYPE_CHECKING, Protocol, TypedDict

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from tessera.accounts.models import Agent, Department, Membership, Team, User
from tessera.compiled_get import CompiledGet

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, WithAnnotations

from . import policy, reference
from .models import (
    ACTIVE_STATES,
    Attachment,
    Collaborator,
    EntryKind,
    Event,
    HelpTopic,
    Priority,
    Referral,
    State,
    Status,
    ThreadEntry,
    Ticket,
)

QUEUE_PAGE_SIZE = 50
COUNT_CAP = 10_000

# With what open_ticket reads from a topic next: its department and default priority.
_INTAKE_TOPIC = CompiledGet(HelpTopic.objects.select_related("department", "default_priority"), "pk")
_ACTIVE_INTAKE_TOPIC = CompiledGet(
    HelpTopic.objects.select_related("department", "default_priority").filter(is_active=True), "pk"
)


def intake_topic(pk: int, *, active_only: bool = False) -> HelpTopic:
    """The help topic an API request names, for opening a ticket in it; `HelpTopic.DoesNotExist`
    if there is none (or none active). Every API ticket asks, so the read is compiled once
    (tessera.compiled_get)."""
    return (_ACTIVE_INTAKE_TOPIC if active_only else _INTAKE_TOPIC).get(pk)


@dataclass(frozen=True)
class Queue:
    slug: str
    label: StrOrPromise  # lazy: the module is imported before a language is active


def _queues() -> list[Queue]:
    from django.utils.translation import gettext_lazy as _

    return [
        Queue("mine", _("My tickets")),
        Queue("teams", _("My teams")),
        Queue("unassigned", _("Unassigned")),
        Queue("open", _("Open in my departments")),
        Queue("pending", _("Waiting on customer")),
        Queue("breaching", _("Breaching in the next hour")),
        Queue("overdue", _("Overdue")),
        Queue("answered", _("Answered")),
        Queue("resolved", _("Resolved")),
        Queue("following", _("Following")),
        Queue("closed", _("Closed")),
        Queue("all", _("All I can see")),
    ]


QUEUES = _queues()
QUEUE_SLUGS = {q.slug for q in QUEUES}

# "Breaching in the next hour": a target falls due within this long.
BREACHING_WINDOW = timedelta(hours=1)


def overdue_q(now: datetime) -> Q:
    """Past a due time still owed: the first response while unanswered, or the resolution.
    Each half is a range of its own index (ticket_state_due / ticket_active_fr_due)."""
    return Q(due_at__lt=now) | Q(first_response_at__isnull=True, first_response_due_at__lt=now)


def breaching_q(now: datetime, within: timedelta = BREACHING_WINDOW) -> Q:
    """A due time still owed falls within `within` from now (and has not passed yet)."""
    soon = now + within
    return Q(due_at__gte=now, due_at__lt=soon) | Q(
        first_response_at__isnull=True, first_response_due_at__gte=now, first_response_due_at__lt=soon
    )


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
    elif slug == "pending":
        qs = qs.filter(state=State.PENDING)
    elif slug == "overdue":
        qs = qs.filter(overdue_q(timezone.now()), state__in=ACTIVE_STATES)
    elif slug == "breaching":
        # Paused (pending) tickets' clocks stand still: they cannot breach.
        qs = qs.filter(breaching_q(timezone.now()), state=State.OPEN)
    elif slug == "answered":
        qs = qs.filter(state__in=ACTIVE_STATES, is_answered=True)
    elif slug == "resolved":
        qs = qs.filter(state=State.RESOLVED)
    elif slug == "closed":
        qs = qs.filter(state=State.CLOSED)
    elif slug != "all":
        raise ValueError(slug)
    return qs.order_by("-updated_at", "-id")


class QueueQuery(Protocol):
    """Filters, sort and cursor applied to a queue (tessera.staff.filters.QueueFilter)."""

    def page(self, qs: QuerySet[Ticket]) -> QuerySet[Ticket]: ...


def with_row_relations(tickets: list[Ticket]) -> list[Ticket]:
    """Give a page of tickets everything a row shows: requester, assignee, priority, status,
    department, team and help topic.

    Loaded after the tickets rather than joined into their query: at a million tickets
    PostgreSQL spent 10–20 ms *planning* the eight-table join (the ticket table's many indexes
    times every join order) against about 1 ms for the ticket query alone (bench/RESULTS.md).
    At most seven queries for a page, whatever its size: the requesters, the assignees with
    their users (skipped when nobody on the page is assigned), and each small reference table
    whole (read once per request: tickets.reference).
    (Requesters and assignees in one query needed an OR across a join, which made PostgreSQL
    read every user.)"""
    if not tickets:
        return tickets
    people = User.objects.in_bulk({t.user_id for t in tickets})
    agents = Agent.objects.select_related("user").in_bulk({t.assignee_id for t in tickets if t.assignee_id})
    priorities = reference.by_pk(Priority)
    statuses = reference.by_pk(Status)
    departments = reference.by_pk(Department)
    teams = reference.by_pk(Team)
    topics = reference.by_pk(HelpTopic)
    for t in tickets:
        t.user = people[t.user_id]
        t.assignee = agents.get(t.assignee_id) if t.assignee_id is not None else None
        t.priority = priorities[t.priority_id]
        t.status = statuses[t.status_id]
        t.department = departments[t.department_id]
        t.team = teams.get(t.team_id) if t.team_id is not None else None
        t.topic = topics.get(t.topic_id) if t.topic_id is not None else None
    return tickets


def queue_page(
    agent: Agent,
    slug: str,
    *,
    query: QueueQuery,
    size: int | None = None,
) -> tuple[list[Ticket], bool]:
    """One page of a queue by keyset, never OFFSET: the query brings the filters, the sort and
    the (sort value, id) cursor of the last row seen."""
    size = size or QUEUE_PAGE_SIZE
    rows = list(query.page(queue_tickets(agent, slug))[: size + 1])
    return with_row_relations(rows[:size]), len(rows) > size


def queue_counts(agent: Agent, extra: dict[str, QuerySet[Ticket]] | None = None) -> dict[str, int]:
    """Per-queue counts (the system queues, plus any `extra` querysets such as saved queues),
    capped at COUNT_CAP + 1 (shown as "10,000+") so a huge queue never costs a full scan.

    The counts are kept for COUNTS_CACHE_SECONDS per agent (and per set of saved queues): an
    agent paging through a queue or moving between tickets does not recount a million rows on
    every page, and a count is at most that many seconds old. 0 turns the cache off."""
    from django.conf import settings
    from django.core.cache import cache

    extra = extra or {}
    ttl = settings.TESSERA["COUNTS_CACHE_SECONDS"]
    key = f"tessera:queue-counts:{agent.pk}:{','.join(sorted(extra))}"
    if ttl:
        cached: dict[str, int] | None = cache.get(key)
        if cached is not None:
            return cached
    querysets = {q.slug: queue_tickets(agent, q.slug) for q in QUEUES}
    counts = capped_counts({**querysets, **extra})
    if ttl:
        cache.set(key, counts, ttl)
    return counts


def capped_counts(querysets: dict[str, QuerySet[Ticket]]) -> dict[str, int]:
    """Count several querysets in ONE statement: each is a COUNT(*) over a LIMITed id
    subquery, so the sidebar costs one round trip however many queues it lists, and no count
    reads more than COUNT_CAP + 1 index entries."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connections

    counts: dict[str, int] = {}
    parts: list[str] = []
    params: list[str | int] = []
    keys: list[str] = []
    using = "default"
    for key, qs in querysets.items():
        ids = qs.order_by().values("id")[: COUNT_CAP + 1]
        using = ids.db
        try:
            sql, sub_params = ids.query.get_compiler(using=using).as_sql()
        except EmptyResultSet:
            counts[key] = 0
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS c{len(parts)})")  # noqa: S608  Django's own compiled SQL; values are parameters
        params.extend(sub_params)
        keys.append(key)
    if parts:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            row = cursor.fetchone()
        counts.update(zip(keys, (int(n) for n in row), strict=True))
    return {key: counts[key] for key in querysets}


def ticket_for_agent(agent: Agent, number: int) -> Ticket | None:
    """The ticket page's ticket, with everything its header and details show, or None when the
    agent may not see it.

    The ticket comes by number and the policy decides in Python (policy.sees), then its
    relations come by primary key: one query joining all of it under the visibility filter cost
    PostgreSQL about 10 ms of planning at a million tickets, and Django a few ms more to
    compile (bench/RESULTS.md)."""
    ticket = Ticket.objects.select_related("organization").filter(number=number).first()
    if ticket is None or not policy.sees(agent, ticket):
        return None
    return with_row_relations([ticket])[0]


def timeline(ticket: Ticket, *, include_internal: bool) -> list[ThreadEntry | Event]:
    """Messages, responses, notes and events interleaved by time. Each entry's attachments are
    in its `files` list (a plain list: a long thread is cheaper without a manager per entry)."""
    entries = (
        ThreadEntry.objects.filter(ticket=ticket)
        .defer("body_text")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id"), to_attr="files"))
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
    return reference.rows(Status)


def priority_choices() -> list[Priority]:
    return reference.rows(Priority)


def department_choices() -> list[Department]:
    return reference.rows(Department)


def team_choices() -> list[Team]:
    return [team for team in reference.rows(Team) if team.is_active]


def topic_choices() -> list[HelpTopic]:
    """Every help topic, retired ones included (a ticket may still carry one); forms offer the active."""
    return reference.rows(HelpTopic)


class AgentChoiceFacts(TypedDict):
    in_department: bool
    primary_department: str | None  # the name of their primary department


if TYPE_CHECKING:
    AgentChoice = WithAnnotations[Agent, AgentChoiceFacts]  # an Agent as agent_choices returns it


def agent_choices(department_id: int) -> list[AgentChoice]:
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


OTHER_TICKETS_SHOWN = 10


def other_tickets_of_requester(agent: Agent, ticket: Ticket, limit: int = OTHER_TICKETS_SHOWN) -> list[Ticket]:
    """The requester's other tickets that `agent` may see, newest first, in one query (the
    ticket_user_created index, then the same visibility rule as the queues)."""
    return list(
        policy.visible_tickets(agent)
        .filter(user_id=ticket.user_id)
        .exclude(pk=ticket.pk)
        .select_related("status")
        .only("id", "number", "subject", "state", "created_at", "status", "status__name", "status__state")
        .order_by("-created_at", "-id")[:limit]
    )
