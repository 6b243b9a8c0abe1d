"""The ticket page's working-day extras: who is replying (reply locks and the presence
fragment), "Send anyway" instead of silently crossing someone else's reply, the requester's
other tickets, previous/next ticket in the queue the agent came from, and the email
notifications about the ticket that could not be sent.

Like the rest of the workspace this is an adapter: locks change only through
tickets.locks, reads go through selectors, and visibility is the policy's
(`ticket_for_agent` finds only tickets the agent may see).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tessera.accounts.models import Agent
from tessera.tickets import locks, selectors
from tessera.tickets.models import EntryKind, Event, ThreadEntry, Ticket, TicketLock
from tessera.tickets.neighbours import neighbours

from .access import agent_required

DEFAULT_POLL_SECONDS = 10
RENEW_SECONDS = 30  # ticket.js renews a lock at most this often while the agent types
NAV_SESSION_KEY = "ticket_nav"


def poll_seconds() -> int:
    return max(1, int(settings.TESSERA.get("POLL_SECONDS", DEFAULT_POLL_SECONDS)))


# ---------------------------------------------------------------------------- reply locks


def _json_missing(number: int) -> JsonResponse:
    message = _("Ticket #%(number)s does not exist or is not in your departments.") % {"number": number}
    return JsonResponse({"held": False, "message": message}, status=404)


@require_POST
@agent_required
def take_lock(request: HttpRequest, agent: Agent, number: int) -> HttpResponse:
    """Take or renew the reply lock (ticket.js calls this when the agent starts typing, then
    at most every RENEW_SECONDS). 409 names who holds it: the page shows that as a warning,
    the agent may still write and send."""
    found = selectors.ticket_for_agent(agent, number)
    if found is None:
        return _json_missing(number)
    try:
        lock = locks.acquire_lock(request.user, found)
    except locks.LockHeld as exc:
        return JsonResponse(
            {"held": False, "holder": exc.lock.agent.name, "message": locks.holder_message(exc.lock)}, status=409
        )
    except PermissionDenied as exc:
        return JsonResponse({"held": False, "message": str(exc)}, status=403)
    return JsonResponse({"held": True, "expires_at": lock.expires_at.isoformat(), "renew_seconds": RENEW_SECONDS})


@require_POST
@agent_required
def release_lock(request: HttpRequest, agent: Agent, number: int) -> HttpResponse:
    """Let go of the agent's own lock (navigator.sendBeacon when the page is left)."""
    found = selectors.ticket_for_agent(agent, number)
    if found is None:
        return _json_missing(number)
    locks.release_lock(request.user, found)
    return HttpResponse(status=204)


@require_GET
@agent_required
def presence(request: HttpRequest, agent: Agent, number: int) -> HttpResponse:
    """The small fragment the ticket page polls: who else is replying right now."""
    found = selectors.ticket_for_agent(agent, number)
    if found is None:
        return HttpResponse(status=404)
    holder = locks.lock_held_by_other(request.user, found)
    return render(request, "staff/_presence.html", {"holder": holder})


urlpatterns = [
    path("tickets/<int:number>/lock/", take_lock, name="ticket_lock"),
    path("tickets/<int:number>/unlock/", release_lock, name="ticket_unlock"),
    path("tickets/<int:number>/presence/", presence, name="ticket_presence"),
]


# ---------------------------------------------------------------------------- crossing replies


@dataclass
class Crossing:
    """Why a reply was held back for confirmation rather than sent over someone else's."""

    problems: list[str]
    replies: list[ThreadEntry]  # other agents' replies posted since the form was loaded
    holder: TicketLock | None  # another agent writing a reply right now


CONFIRM_FIELD = "reply-confirm_cross"
SEEN_FIELD = "reply-seen"


def _seen(data: QueryDict) -> int | None:
    """The last thread entry the form's page showed; None when the form did not say."""
    raw = data.get(SEEN_FIELD, "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def reply_crossing(request: HttpRequest, ticket: Ticket, *, stale: bool) -> Crossing | None:
    """Should this reply wait for "Send anyway"? Only the reply action asks.

    `stale`: the form's version is behind the ticket's. Then another agent's reply posted since
    the page was drawn (entries newer than the form's `seen`) is the news worth stopping for.
    Whether stale or not, another agent's fresh reply lock stops it too, unless the agent
    already confirmed (`confirm_cross=1`, the "Send anyway" button). Returns None when nothing
    crosses: the caller then sends the reply, or shows its plain "ticket changed" message.
    """
    user = request.user
    confirmed = request.POST.get(CONFIRM_FIELD) == "1"
    replies: list[ThreadEntry] = []
    seen = _seen(request.POST)
    if stale and seen is not None:
        replies = list(
            ThreadEntry.objects.filter(ticket_id=ticket.pk, kind=EntryKind.RESPONSE, pk__gt=seen)
            .exclude(author_id=user.pk)
            .order_by("created_at", "id")
        )
    holder = None if confirmed else locks.lock_held_by_other(user, ticket)
    if not replies and holder is None:
        return None
    problems = []
    if replies:
        names = ", ".join(dict.fromkeys(e.author_name or _("another agent") for e in replies))
        problems.append(
            _("%(names)s replied to this ticket while you were writing. Read the new reply before sending yours.")
            % {"names": names}
        )
    elif stale:
        problems.append(
            _("Ticket %(ref)s changed while you were working on it. Review the latest activity, then try again.")
            % {"ref": ticket.reference}
        )
    if holder is not None:
        problems.append(locks.holder_message(holder))
    problems.append(_("Your reply was not sent. To send it as it is, choose “Send anyway”."))
    return Crossing(problems, replies, holder)


# ---------------------------------------------------------------------------- previous / next in the queue


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
        return f"/staff/tickets/{neighbour.number}/?{urlencode({'from': self.url})}"

    @property
    def previous_url(self) -> str | None:
        return self.ticket_url(self.previous) if self.previous else None

    @property
    def next_url(self) -> str | None:
        return self.ticket_url(self.next) if self.next else None


_QUEUE_PATH = re.compile(r"^/staff/queues/(?P<slug>[a-z][a-z0-9-]*)/$")
_SAVED_PATH = re.compile(r"^/staff/queues/saved/(?P<pk>\d{1,18})/$")


def _queue_for(agent: Agent, url: str) -> tuple[str, Any, dict[str, Any]] | None:
    """(label, ordered queryset, the expressions its ordering uses) of the queue page at `url`,
    or None when `url` is not a queue this agent can open. Reads the filters and sort the way
    the queue pages do (filters.QueueFilter), so the order is the one the agent saw."""
    from . import queue_selectors
    from .filters import VIEW_PARAMS, QueueFilter

    parts = urlsplit(url)
    params: Any = QueryDict(parts.query)
    if parts.path == "/staff/":
        slug = "mine" if selectors.queue_tickets(agent, "mine").exists() else "open"
        label = next(q.label for q in selectors.QUEUES if q.slug == slug)
    elif match := _SAVED_PATH.match(parts.path):
        saved = queue_selectors.saved_queue_for(agent, int(match["pk"]))
        if saved is None:
            return None
        slug, label = queue_selectors.base_queue(saved), saved.name
        if not any(key in params for key in VIEW_PARAMS) and isinstance(saved.params, dict):
            params = saved.params  # a saved queue's own filters, unless the link names others
    elif (match := _QUEUE_PATH.match(parts.path)) and match["slug"] in selectors.QUEUE_SLUGS:
        slug = match["slug"]
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
    if not (parts.path == "/staff/" or _QUEUE_PATH.match(parts.path) or _SAVED_PATH.match(parts.path)):
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


# ---------------------------------------------------------------------------- email that did not go out

MAIL_PROBLEMS_SHOWN = 10


@dataclass(frozen=True)
class MailProblem:
    """A notification about this ticket that failed for good, or is waiting to be tried again."""

    recipient: str
    notice: str  # the notice's name for people ("Agent reply")
    failed: bool  # gave up; False: will be tried again at next_attempt_at
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime | None


def mail_problems(ticket: Ticket) -> list[MailProblem]:
    """The newest notifications that did not reach their recipient (one query, capped): an
    agent must know when the customer never got the answer the timeline shows them."""
    from django.db.models import Q

    from tessera.mail.models import Delivery, DeliveryStatus
    from tessera.mail.outbound import notice_label

    rows = (
        Delivery.objects.filter(ticket_id=ticket.pk)
        .filter(Q(status=DeliveryStatus.FAILED) | Q(status=DeliveryStatus.QUEUED, attempts__gt=0))
        .order_by("-created_at", "-pk")
        .only("recipient", "notice", "status", "attempts", "last_error", "created_at", "next_attempt_at")
    )[:MAIL_PROBLEMS_SHOWN]
    return [
        MailProblem(
            recipient=d.recipient,
            notice=notice_label(d.notice),
            failed=d.status == DeliveryStatus.FAILED,
            attempts=d.attempts,
            last_error=d.last_error,
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at,
        )
        for d in rows
    ]


# ---------------------------------------------------------------------------- the page


def page_context(request: HttpRequest, agent: Agent, ticket: Ticket, timeline: list[ThreadEntry | Event]) -> dict:
    """What ticket.html needs on top of the core page. A fixed number of queries: the
    requester's other tickets (one), the reply lock (one), email that did not go out (one), and
    — only on arrival from a queue — the two neighbour lookups. Files come from the timeline's
    prefetched attachments."""
    entries = [item for item in timeline if isinstance(item, ThreadEntry)]
    return {
        "other_tickets": selectors.other_tickets_of_requester(agent, ticket),
        "queue_nav": queue_nav(request, agent, ticket),
        "presence_holder": locks.lock_held_by_other(request.user, ticket),
        "poll_seconds": poll_seconds(),
        "last_entry_id": max((e.pk for e in entries), default=0),
        "files": [(entry, file) for entry in entries for file in entry.files],
        "mail_problems": mail_problems(ticket),
    }
