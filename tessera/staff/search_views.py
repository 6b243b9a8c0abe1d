"""The search page: GET /staff/search/?q=…[&queue filter parameters].

A thin adapter over tessera.search.query: a ticket number the agent can see opens that ticket
(302); anything else is searched among the tickets the agent may see, narrowed by the same
filter parameters as the queue pages, and shown ranked with the matched words marked.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent
from tessera.customfields import queue as custom_fields
from tessera.search import query as search_query
from tessera.search.syntax import parse_query
from tessera.tickets import selectors
from tessera.tickets.models import Ticket

from . import queue_selectors
from .access import agent_required
from .filters import FILTER_PARAMS, QueueFilter

TICKET_NUMBER = re.compile(r"#?\s*(\d{1,18})")
MAX_TYPED = 1_000  # characters of the query echoed back (the parser reads fewer)


def ticket_number(text: str) -> int | None:
    """The ticket number in "100234" or "#100234", else None."""
    match = TICKET_NUMBER.fullmatch(text.strip())
    return int(match.group(1)) if match else None


def apply_queue_filters(request: HttpRequest, qs: Any) -> tuple[Any, dict[str, Any]]:
    """The queue filter parameters (status, priority, department, …) applied to `qs`, plus what
    the page shows about them (chips to remove each, problems with ignored values).

    The one place the search page depends on the queue filters (tessera.staff.filters)."""
    # The choices (names for the chips, ids to validate) are only read when a filter is given.
    filtered = any(key in request.GET for key in FILTER_PARAMS) or bool(custom_fields.param_names(request.GET))
    qf = QueueFilter.from_params(request.GET, choices=queue_selectors.filter_choices() if filtered else None)
    q = request.GET.get("q", "")
    return qf.apply(qs), {
        "filter_chips": qf.chips([("q", q)]),
        "filter_errors": qf.errors,
        "filter_params": qf.filter_params(),
    }


def _sidebar() -> dict[str, Any]:
    """The queue list without counts: on a million tickets the counts cost more than the search
    itself, so htmx loads them (GET /staff/queues/counts/) once the results are on screen."""
    return {"lazy_queues": selectors.QUEUES, "current_key": "search"}


@require_GET
@agent_required
def search(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    text = request.GET.get("q", "")[:MAX_TYPED].strip()
    number = ticket_number(text)
    if number is not None and selectors.ticket_for_agent(agent, number) is not None:
        return redirect("staff:ticket", number=number)
    within, filters = apply_queue_filters(request, Ticket.objects.all())
    parsed = parse_query(text)
    hits = search_query.search(agent, parsed, within=within) if not parsed.is_empty else []
    context = {
        **_sidebar(),
        **filters,
        "q": text,
        "searched": bool(text),
        "unusable": bool(text) and parsed.is_empty,
        "hits": hits,
        "more": len(hits) >= search_query.RESULT_LIMIT,
        "limit": search_query.RESULT_LIMIT,
        "in_page_search": True,  # the page's own box is the search box: the sidebar leaves its out
    }
    return render(request, "staff/search.html", context)
