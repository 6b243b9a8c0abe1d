"""The queue's bulk bar: one action applied to every ticked ticket.

A thin adapter like the rest of the workspace: forms.BulkForm parses, tickets.bulk decides and
changes, and the answer comes back as one flash message after POST/redirect/GET. The form
works as a plain HTML POST; static/js/bulk.js only adds the selection count and hides the
value selects the chosen action does not use.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent, Department, Team
from tessera.tickets.bulk import BulkResult, bulk_apply
from tessera.tickets.models import Priority, Status

from .access import agent_required
from .forms import BULK_ACTIONS, BulkChoices, BulkForm

_BY_VALUE = {value: (action, field) for value, _label, action, field in BULK_ACTIONS}


# How the view finds the object a value select names, refusing one that went away meanwhile.
CHOSEN: dict[str, Any] = {
    "agent": lambda pk: Agent.objects.select_related("user").filter(pk=pk, is_active=True).first(),
    "team": lambda pk: Team.objects.filter(pk=pk, is_active=True).first(),
    "department": lambda pk: Department.objects.filter(pk=pk).first(),
    "priority": lambda pk: Priority.objects.filter(pk=pk).first(),
    "status": lambda pk: Status.objects.filter(pk=pk).first(),
}


def _back(request: HttpRequest, raw: str) -> HttpResponse:
    """Back to the queue the agent was on (only ever a workspace path), else the dashboard."""
    if raw.startswith("/staff/") and url_has_allowed_host_and_scheme(raw, allowed_hosts=None):
        return redirect(raw)
    return redirect("staff:dashboard")


def _selected(request: HttpRequest) -> list[int] | None:
    """The ticked rows' ticket numbers, in page order; None when one is not a number."""
    numbers = []
    for raw in request.POST.getlist("tickets"):
        raw = raw.strip()
        if not raw.isdecimal() or len(raw) > 18:
            return None
        numbers.append(int(raw))
    return numbers


def summary(result: BulkResult) -> str:
    """One sentence for the whole batch: what went through, then every refusal with its reason."""
    done = len(result.done)
    if result.action == "merge":
        head = ngettext(
            "Merged %(count)d ticket into #%(target)s.", "Merged %(count)d tickets into #%(target)s.", done
        ) % {"count": done, "target": result.target}
    else:
        head = ngettext("Updated %(count)d ticket.", "Updated %(count)d tickets.", done) % {"count": done}
    if not result.refused:
        return head
    refused = len(result.refused)
    listed = "; ".join(
        _("#%(number)s — %(reason)s") % {"number": r.number, "reason": r.reason.rstrip(".")} for r in result.refused
    )
    tail = ngettext("%(count)d refused: %(list)s.", "%(count)d refused: %(list)s.", refused) % {
        "count": refused,
        "list": listed,
    }
    return f"{head} {tail}"


@require_POST
@agent_required
def bulk(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    """POST /staff/bulk/: apply the bulk bar's action to the ticked tickets, then go back to the queue."""
    form = BulkForm(request.POST, choices=BulkChoices.load())
    back = request.POST.get("bulk-next", "")
    numbers = _selected(request)
    if numbers is None:
        messages.error(request, _("The selection was not understood. Reload the queue and try again."))
        return _back(request, back)
    if not numbers:
        messages.error(request, _("No tickets selected. Tick the boxes of the tickets to change first."))
        return _back(request, back)
    if not form.is_valid():
        if "action" in form.errors:
            messages.error(request, _("Choose a bulk action."))
        else:
            messages.error(request, _("That choice is no longer available. Reload the queue and try again."))
        return _back(request, back)
    data = form.cleaned_data
    action, field = _BY_VALUE[data["action"]]
    params: dict[str, object] = {}
    if field and data[field] is not None:
        params[field] = CHOSEN[field](data[field])
        if params[field] is None:
            messages.error(request, _("That choice is no longer available. Reload the queue and try again."))
            return _back(request, back)
    if action == "status" and data.get("close_tasks"):
        params["close_tasks"] = True  # tickets with open tasks close with them
    try:
        result = bulk_apply(request.user, numbers, action, **params)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(request, back)
    if not result.refused:
        messages.success(request, summary(result))
    elif result.done:
        messages.warning(request, summary(result))
    else:
        messages.error(request, summary(result))
    return _back(request, back)
