"""Previous / next ticket in the queue the agent opened this ticket from.

The origin is the `from` parameter the previous/next links carry, else the Referer (same site
only); only the workspace's queue pages count, recognised by their URL names. The queue is
read with the filters and sort the agent saw (filters.QueueFilter), and the two neighbours
are found with keyset lookups (tickets.neighbours).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.http import HttpRequest, QueryDict
from django.urls import Resolver404, resolve, reverse

from tessera.accounts.models import Agent
from tessera.tickets import selectors
from tessera.tickets.models import Ticket
from tessera.tickets.neighbours import neighbours

from . import queue_selectors
from .filters import QueueFilter, names_view

NAV_SESSION_KEY = "ticket_nav"


@dataclass(frozen=True)
class Neighbour:
    number: int
    subject: str


@dataclass(frozen=True)
class QueueNav:
    """Where the agent came from, and the tickets before and after this one there."""

    label: str
    url: str  # the queue page, with its filters and sort
    previous: Neighbour | None
    next: Neighbour | None

    def ticket_url(self, neighbour: Neighbour) -> str:
        return f"{reverse('staff:ticket', args=[neighbour.number])}?{urlencode({'from': self.url})}"

    @property
    def previous_url(self) -> str | None:
        return self.ticket_url(self.previous) if self.previous else None

    @property
    def next_url(self) -> str | None:
        return self.ticket_url(self.next) if self.next else None


# The workspace pages a ticket can be opened from, by URL name (staff/urls.py).
QUEUE_PAGES = frozenset({"dashboard", "queue", "saved_queue"})


def _queue_route(path: str) -> tuple[str, dict[str, Any]] | None:
    """(URL name, arguments) when `path` is one of the workspace's queue pages, else None."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.namespace != "staff" or match.url_name not in QUEUE_PAGES:
        return None
    return match.url_name, match.kwargs


def _queue_for(agent: Agent, url: str) -> tuple[str, Any, dict[str, Any]] | None:
    """(label, ordered queryset, the expressions its ordering uses) of the queue page at `url`,
    or None when `url` is not a queue this agent can open. Reads the filters and sort the way
    the queue pages do (filters.QueueFilter), so the order is the one the agent saw."""
    parts = urlsplit(url)
    params: Any = QueryDict(parts.query)
    route = _queue_route(parts.path)
    if route is None:
        return None
    name, kwargs = route
    if name == "dashboard":
        slug = "mine" if selectors.queue_tickets(agent, "mine").exists() else "open"
        label = next(q.label for q in selectors.QUEUES if q.slug == slug)
    elif name == "saved_queue":
        saved = queue_selectors.saved_queue_for(agent, kwargs["pk"])
        if saved is None:
            return None
        slug, label = queue_selectors.base_queue(saved), saved.name
        if not names_view(params) and isinstance(saved.params, dict):
            params = saved.params  # a saved queue's own filters, unless the link names others
    elif kwargs["slug"] in selectors.QUEUE_SLUGS:
        slug = kwargs["slug"]
        label = next(q.label for q in selectors.QUEUES if q.slug == slug)
    else:
        return None
    qfilter = QueueFilter.from_params(params)
    ordered = qfilter.ordered(qfilter.apply(selectors.queue_tickets(agent, slug)))
    return str(label), ordered, {"sort_value": qfilter.sort_key.expression()}


def _clean_origin(url: str) -> str | None:
    """A queue page path with its query, without the paging cursor; None for anything else."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/staff/") or "\\" in url:
        return None
    if _queue_route(parts.path) is None:
        return None
    query = [(k, v) for k, v in QueryDict(parts.query).lists() if k not in ("before", "before_id")]
    flat = [(k, v) for k, values in query for v in values]
    return parts.path + (f"?{urlencode(flat)}" if flat else "")


def _origin(request: HttpRequest) -> str | None:
    """The queue the agent opened this ticket from: the `from` parameter the previous/next
    links carry, else the page they clicked it on (the Referer, same site only)."""
    explicit = request.GET.get("from", "")
    if explicit:
        return _clean_origin(explicit)
    referer = urlsplit(request.META.get("HTTP_REFERER", ""))
    if referer.netloc and referer.netloc != request.get_host():
        return None
    return _clean_origin(referer.path + (f"?{referer.query}" if referer.query else ""))


def queue_nav(request: HttpRequest, agent: Agent, ticket: Ticket) -> QueueNav | None:
    """Previous/next ticket in the queue the agent came from.

    Worked out (two LIMIT 1 keyset queries) when the agent arrives from a queue, then kept in
    the session for this ticket, so that after replying — which moves the ticket to the top
    of an "updated" queue — "Next ticket" still leads on down the list instead of back up it.
    """
    origin = _origin(request) if request.method == "GET" else None
    session = request.session
    if origin is None:
        saved = session.get(NAV_SESSION_KEY)
        if not isinstance(saved, dict) or saved.get("number") != ticket.number:
            return None
        try:
            return QueueNav(
                saved["label"],
                saved["url"],
                Neighbour(*saved["previous"]) if saved.get("previous") else None,
                Neighbour(*saved["next"]) if saved.get("next") else None,
            )
        except (KeyError, TypeError):
            return None
    try:
        found = _queue_for(agent, origin)
        if found is None:
            return None
        label, qs, annotations = found
        before, after = neighbours(qs, ticket, annotations)
    except (ValueError, LookupError):
        return None
    nav = QueueNav(
        label,
        origin,
        Neighbour(before.number, before.subject) if before else None,
        Neighbour(after.number, after.subject) if after else None,
    )
    stored = {
        "number": ticket.number,
        "label": nav.label,
        "url": nav.url,
        "previous": [nav.previous.number, nav.previous.subject] if nav.previous else None,
        "next": [nav.next.number, nav.next.subject] if nav.next else None,
    }
    if session.get(NAV_SESSION_KEY) != stored:
        session[NAV_SESSION_KEY] = stored
    return nav
