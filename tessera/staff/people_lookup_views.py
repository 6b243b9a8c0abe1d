"""The people lookup behind the "New ticket" requester box: GET /staff/people/lookup/?q=…

Answers the listbox options (an HTML fragment the page's script puts under the box) for the
end users whose name, address or organisation starts with what the agent typed, at most ten,
in three index-backed queries (accounts/lookup.py). Agents and administrators are never offered.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tessera.accounts import lookup
from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent
from tessera.tickets import policy

from .access import agent_required


@require_GET
@agent_required
def people_lookup(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    if not policy.can_read_directory(request.user):
        return HttpResponse(status=403)
    text = request.GET.get("q", "")[: lookup.MAX_TYPED]
    people = lookup.find_end_users(text)
    response = render(request, "staff/_people_options.html", {"people": people, "q": text.strip()})
    response["Cache-Control"] = "private, no-store"
    return response
