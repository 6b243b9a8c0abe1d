"""Reply locks on the ticket page: who is replying right now.

ticket.js takes the lock when the agent starts typing and renews it while they type
(take_lock), lets go when the page is left (release_lock), and polls the presence fragment.
The lock is advisory: it warns, it never stops anyone sending. Locks change only through
tickets.locks; `ticket_for_agent` finds only tickets the agent may see.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent
from tessera.tickets import locks, selectors

from .access import agent_required

RENEW_SECONDS = 30  # ticket.js renews a lock at most this often while the agent types


def _json_missing(number: int) -> JsonResponse:
    message = _("Ticket #%(number)s does not exist or is not in your departments.") % {"number": number}
    return JsonResponse({"held": False, "message": message}, status=404)


@require_POST
@agent_required
def take_lock(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> HttpResponse:
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
def release_lock(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> HttpResponse:
    """Let go of the agent's own lock (navigator.sendBeacon when the page is left)."""
    found = selectors.ticket_for_agent(agent, number)
    if found is None:
        return _json_missing(number)
    locks.release_lock(request.user, found)
    return HttpResponse(status=204)


@require_GET
@agent_required
def presence(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> HttpResponse:
    """The small fragment the ticket page polls: who else is replying right now."""
    found = selectors.ticket_for_agent(agent, number)
    if found is None:
        return HttpResponse(status=404)
    holder = locks.lock_held_by_other(request.user, found)
    return render(request, "staff/_presence.html", {"holder": holder})
