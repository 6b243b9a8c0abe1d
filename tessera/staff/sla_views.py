"""The properties panel's service level: the plan and an agent's own due date.

POST /staff/tickets/<number>/sla/<what>/ with `what` "plan" (sla-plan: a plan id, or "" for the
one the help topic or department gives) or "due" (sla-due: a local date and time in the
viewer's zone, or "" to follow the plan again), and sla-version, the version the agent saw.
Like the panel's selects (properties_views) each control saves where it stands: through the
services (set_sla_plan, set_due_date), refused as stale (409) when the ticket changed
meanwhile, 400 for a value that is not one (kept in the field), 403 without the right, 404 for a
ticket the agent does not see. htmx gets the panel back, with Undo for a few seconds (the
panel's own: properties_views makes the change and signs the token); a plain POST a redirect.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent
from tessera.sla.models import SlaPlan
from tessera.tickets import selectors, services
from tessera.tickets.models import Ticket

from . import properties_panel
from .access import agent_required
from .properties_views import _apply, _is_htmx, _panel_response, _undo_token
from .views import Submitted, _not_found, _render_ticket, _stale_message, _ticket_missing

DUE_FORMAT = "%Y-%m-%dT%H:%M"


def _plan(raw: str) -> SlaPlan | None:
    """The plan an id names; None for "" (automatic). ValueError for anything else."""
    if raw == "":
        return None
    if not raw.isdecimal() or len(raw) > 18:
        raise ValueError(raw)
    found = SlaPlan.objects.filter(pk=int(raw), is_active=True).first()
    if found is None:
        raise ValueError(raw)
    return found


def _due(raw: str) -> datetime | None:
    """The viewer's local date and time (the middleware activated their zone) as an aware
    datetime; None for "". ValueError for anything else."""
    if raw == "":
        return None
    local = datetime.strptime(raw[:16], DUE_FORMAT)  # noqa: DTZ007  wall-clock time, made aware in the next line
    return timezone.make_aware(local, timezone.get_current_timezone())


@require_POST
@agent_required
def save_sla(request: AuthenticatedHttpRequest, agent: Agent, number: int, what: str) -> HttpResponse:
    if what not in ("plan", "due"):
        return _not_found(request, _("A ticket has no such property."))
    found = selectors.ticket_for_agent(agent, number)
    if found is None:
        return _ticket_missing(request, number)
    user = request.user

    def again(status: int, problem: str, ticket: Ticket) -> HttpResponse:
        panel = properties_panel.build(user, ticket, problems=[problem])
        if _is_htmx(request):
            return _panel_response(request, agent, panel, status=status)
        submitted = Submitted("properties", request.POST, None, [problem])
        return _render_ticket(request, agent, ticket, submitted=submitted, panel=panel, status=status)

    raw = str(request.POST.get(f"sla-{what}", "")).strip()
    version = str(request.POST.get("sla-version", ""))
    try:
        plan = _plan(raw) if what == "plan" else None
        due_at = _due(raw) if what == "due" else None
    except (ValueError, OverflowError):
        if what == "plan":
            return again(400, _("Choose one of the active SLA plans listed."), found)
        return again(400, _("“%(value)s” is not a date and time.") % {"value": raw[:40]}, found)
    if not version.isdecimal() or int(version) != found.version:
        return again(409, _stale_message(found), found)
    name = "sla_plan" if what == "plan" else "sla_due"
    try:
        said = _apply(user, found, {name: plan if what == "plan" else due_at}, "", found.version)
    except services.StaleTicket as exc:
        return again(409, exc.messages[0], found)
    except ValidationError as exc:
        return again(400, " ".join(exc.messages), found)
    except PermissionDenied as exc:
        return again(403, str(exc), found)
    fresh = selectors.ticket_for_agent(agent, number)
    if fresh is None:
        return redirect("staff:dashboard")
    if not _is_htmx(request):
        for line in said:
            messages.success(request, line)
        return redirect("staff:ticket", number=number)
    undo = _undo_token(user, found, fresh, name)
    return _panel_response(request, agent, properties_panel.build(user, fresh), said=" ".join(said), undo=undo)
