"""The queue page's quick switch between comfortable and compact rows.

A plain form (no script needed) that posts the wanted density and the page to return to;
accounts.services.set_density checks, through the policy, that an agent changes only their own
preference, and refuses a value that is not one of the two."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tessera.accounts import services as account_services
from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent

from .access import agent_required


def _workspace_path(raw: str) -> str:
    """The page the switch was on, when it is a workspace path; else ""."""
    if raw.startswith("/staff/") and url_has_allowed_host_and_scheme(raw, allowed_hosts=None):
        return raw
    return ""


@require_POST
@agent_required
def set_density(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    """POST /staff/density/: keep the agent's choice, then go back to the queue."""
    back = _workspace_path(request.POST.get("next", ""))
    try:
        account_services.set_density(request.user, agent, request.POST.get("density", ""))
    except ValidationError as exc:
        return render(request, "staff/density_refused.html", {"errors": exc.messages, "back": back}, status=400)
    return redirect(back or "staff:dashboard")
