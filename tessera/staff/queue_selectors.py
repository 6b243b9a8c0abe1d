"""Reads behind the queue pages: the lists a filter form offers, and the saved queues an
agent sees. Each is one query, whatever the desk holds, so a queue page's query count stays
fixed."""

from __future__ import annotations

from typing import TypedDict

from django.db.models import Q, QuerySet

from tessera.accounts.models import Agent, Organization
from tessera.tickets import policy, reference, selectors
from tessera.tickets.models import HelpTopic, Ticket

from .filters import Choices, QueueFilter
from .models import SavedQueue

# A desk with more organisations than this offers the first ones by name; a filter on another
# one still works from a link or a saved queue (its chip then names it by id).
MAX_ORG_CHOICES = 500


def filter_choices() -> Choices:
    """Everything the filter form lists, one query per list."""
    agents = Agent.objects.filter(is_active=True, user__is_active=True).select_related("user")
    return Choices(
        statuses=[(s.pk, s.name) for s in selectors.status_choices()],
        priorities=[(p.pk, p.name) for p in selectors.priority_choices()],
        departments=[(d.pk, d.name) for d in selectors.department_choices()],
        teams=[(t.pk, t.name) for t in selectors.team_choices()],
        agents=[(a.pk, a.user.display_name) for a in agents.order_by("user__name", "user__email")],
        topics=[(t.pk, t.name) for t in reference.rows(HelpTopic)],
        orgs=list(Organization.objects.order_by("name").values_list("pk", "name")[:MAX_ORG_CHOICES]),
    )


def saved_queues(agent: Agent) -> tuple[list[SavedQueue], list[SavedQueue]]:
    """(the agent's own saved queues, those shared with one of their departments or teams),
    each in sidebar order, from one query."""
    teams = agent.teams.filter(is_active=True).values("pk")
    shared = Q(shared_with_departments__in=policy.department_ids(agent)) | Q(shared_with_teams__in=teams)
    ids = SavedQueue.objects.filter(shared).values("pk")
    found = list(
        SavedQueue.objects.filter(Q(owner=agent) | Q(pk__in=ids))
        .select_related("owner__user")
        .order_by("position", "name", "id")
    )
    for q in found:
        q.sidebar_key = f"saved-{q.pk}"  # type: ignore[attr-defined]  # what the sidebar marks as the current page
    return [q for q in found if q.owner_id == agent.pk], [q for q in found if q.owner_id != agent.pk]


def saved_queue_for(
    agent: Agent, pk: int, lists: tuple[list[SavedQueue], list[SavedQueue]] | None = None
) -> SavedQueue | None:
    """A saved queue the agent owns or has been shared, else None (it does not exist for them).
    Pass `lists` (from `saved_queues`) when the page has them already."""
    own, shared = lists if lists is not None else saved_queues(agent)
    return next((q for q in (*own, *shared) if q.pk == pk), None)


def saved_queue_tickets(agent: Agent, saved: SavedQueue) -> QuerySet[Ticket]:
    """The tickets a saved queue lists for this agent: its base system queue, narrowed by its
    filters (read leniently: a saved id that no longer exists matches nothing)."""
    return QueueFilter.from_params(saved.params).apply(selectors.queue_tickets(agent, base_queue(saved)))


def base_queue(saved: SavedQueue) -> str:
    slug = saved.params.get("queue") if isinstance(saved.params, dict) else None
    return slug if slug in selectors.QUEUE_SLUGS else "all"


class Sidebar(TypedDict):
    """The sidebar's part of a page's context: each list with its counts."""

    queues: list[tuple[selectors.Queue, int]]
    my_saved: list[tuple[SavedQueue, int]]
    shared_saved: list[tuple[SavedQueue, int]]
    counts: dict[str, int]


def sidebar(agent: Agent, lists: tuple[list[SavedQueue], list[SavedQueue]] | None = None) -> Sidebar:
    """The sidebar's lists with their counts: system queues, own and shared saved queues.
    Two queries: the saved queues (unless given), and one statement for every count."""
    own, shared = lists if lists is not None else saved_queues(agent)
    extra = {f"saved-{q.pk}": saved_queue_tickets(agent, q) for q in (*own, *shared)}
    counts = selectors.queue_counts(agent, extra)
    return {
        "queues": [(q, counts[q.slug]) for q in selectors.QUEUES],
        "my_saved": [(q, counts[f"saved-{q.pk}"]) for q in own],
        "shared_saved": [(q, counts[f"saved-{q.pk}"]) for q in shared],
        "counts": counts,
    }
