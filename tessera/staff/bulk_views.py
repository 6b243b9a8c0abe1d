"""Working on several tickets at once: the queue's bulk bar, merging duplicates, linking related tickets.

Thin adapters like the rest of the workspace: forms parse, tickets.bulk and tickets.services
decide and change, and the answer comes back as one flash message after POST/redirect/GET.
Every form here works as a plain HTML POST; static/js/bulk.js only adds the selection count
and hides the value selects the chosen action does not use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from tessera.accounts.models import Agent, Department, Team
from tessera.tickets import selectors, services
from tessera.tickets.bulk import BulkResult, bulk_apply
from tessera.tickets.models import Priority, Status, Ticket

from .access import agent_required

# The bulk bar's actions: (form value, label, bulk service action, the value field it uses).
BULK_ACTIONS = [
    ("assign-agent", gettext_lazy("Assign to agent"), "assign", "agent"),
    ("assign-team", gettext_lazy("Assign to team"), "assign", "team"),
    ("transfer", gettext_lazy("Transfer to department"), "transfer", "department"),
    ("priority", gettext_lazy("Change priority"), "priority", "priority"),
    ("status", gettext_lazy("Change status"), "status", "status"),
    ("merge", gettext_lazy("Merge into first selected"), "merge", None),
]
_BY_VALUE = {value: (action, field) for value, _label, action, field in BULK_ACTIONS}


Pairs = Sequence[tuple[int, str]]


@dataclass(frozen=True)
class BulkChoices:
    """What the bulk bar's selects offer, as (id, name) lists: one query per list, or none at all
    when the queue page already loaded the same lists for its filter form."""

    agents: Pairs
    teams: Pairs
    departments: Pairs
    priorities: Pairs
    statuses: Pairs

    @classmethod
    def load(cls) -> BulkChoices:
        return cls(
            agents=[(a.pk, a.name) for a in selectors.agent_choices(0)],
            teams=[(t.pk, t.name) for t in selectors.team_choices()],
            departments=[(d.pk, d.name) for d in selectors.department_choices()],
            priorities=[(p.pk, p.name) for p in selectors.priority_choices()],
            statuses=[(s.pk, s.name) for s in selectors.status_choices()],
        )

    @classmethod
    def borrow(cls, lists: Any) -> BulkChoices | None:
        """The queue filter form's lists (staff.filters.Choices), when the page has them."""
        try:
            return cls(lists.agents, lists.teams, lists.departments, lists.priorities, lists.statuses)
        except AttributeError:
            return None


# How the view finds the object a value select names, refusing one that went away meanwhile.
CHOSEN: dict[str, Any] = {
    "agent": lambda pk: Agent.objects.select_related("user").filter(pk=pk, is_active=True).first(),
    "team": lambda pk: Team.objects.filter(pk=pk, is_active=True).first(),
    "department": lambda pk: Department.objects.filter(pk=pk).first(),
    "priority": lambda pk: Priority.objects.filter(pk=pk).first(),
    "status": lambda pk: Status.objects.filter(pk=pk).first(),
}


def _value_field(label: str, pairs: Pairs, empty: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, choices=[("", empty), *pairs], coerce=int, empty_value=None, required=False
    )


class BulkForm(forms.Form):
    """The bulk bar. The checkboxes (name "tickets") sit in the queue's rows, inside the same form."""

    action = forms.ChoiceField(label=gettext_lazy("Bulk action"))
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, choices: BulkChoices, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "bulk")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        actions = [(value, label) for value, label, _action, _field in BULK_ACTIONS]
        self.fields["action"].choices = [("", _("Choose an action")), *actions]
        self.fields["action"].error_messages["required"] = _("Choose a bulk action.")
        self.fields["agent"] = _value_field(_("Agent to assign"), choices.agents, _("Choose an agent"))
        self.fields["team"] = _value_field(_("Team to assign"), choices.teams, _("Choose a team"))
        self.fields["department"] = _value_field(
            _("Department to transfer to"), choices.departments, _("Choose a department")
        )
        self.fields["priority"] = _value_field(_("New priority"), choices.priorities, _("Choose a priority"))
        self.fields["status"] = _value_field(_("New status"), choices.statuses, _("Choose a status"))

    def value_fields(self) -> list[tuple[forms.BoundField, str]]:
        """The value selects, each with the action that uses it (for bulk.js to show just that one)."""
        used_by = {field: value for value, _label, _action, field in BULK_ACTIONS if field}
        return [(self[name], used_by[name]) for name in ("agent", "team", "department", "priority", "status")]


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
        if not raw.isdigit() or len(raw) > 18:
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
def bulk(request: HttpRequest, agent: Agent) -> HttpResponse:
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
    params = {}
    if field and data[field] is not None:
        params[field] = CHOSEN[field](data[field])
        if params[field] is None:
            messages.error(request, _("That choice is no longer available. Reload the queue and try again."))
            return _back(request, back)
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


# ---------------------------------------------------------------------------- merge and link on the ticket page


class TicketNumberForm(forms.Form):
    number = forms.IntegerField(
        min_value=1,
        error_messages={
            "required": gettext_lazy("Type a ticket number, such as 100001."),
            "invalid": gettext_lazy("Type a ticket number, such as 100001."),
            "min_value": gettext_lazy("Type a ticket number, such as 100001."),
        },
    )
    version = forms.IntegerField(required=False)


def _parse_number(request: HttpRequest, prefix: str) -> TicketNumberForm | None:
    raw = request.POST.get(f"{prefix}-number", "").strip().lstrip("#").strip()
    form = TicketNumberForm({"number": raw, "version": request.POST.get(f"{prefix}-version", "")})
    if form.is_valid():
        return form
    for error in form.errors.get("number", []):
        messages.error(request, error)
    if "version" in form.errors:
        messages.error(request, _("The form was incomplete. Reload the ticket and try again."))
    return None


def _missing(number: int) -> str:
    return _("Ticket #%(number)s does not exist or is not in your departments.") % {"number": number}


def _pair(request: HttpRequest, agent: Agent, number: int, prefix: str) -> tuple[Ticket, Ticket, int | None] | None:
    """This ticket, the ticket typed into the form, and the version the page showed; None after
    telling the agent what is wrong."""
    ticket = selectors.ticket_for_agent(agent, number)
    if ticket is None:
        messages.error(request, _missing(number))
        return None
    form = _parse_number(request, prefix)
    if form is None:
        return None
    other_number = form.cleaned_data["number"]
    other = selectors.ticket_for_agent(agent, other_number) if other_number < 2**63 else None
    if other is None:
        messages.error(request, _missing(other_number))
        return None
    return ticket, other, form.cleaned_data["version"]


def _run(request: HttpRequest, call: Any) -> bool:
    try:
        call()
    except services.StaleTicket as exc:
        messages.error(request, " ".join(exc.messages))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You are not allowed to do that."))
    else:
        return True
    return False


@require_POST
@agent_required
def merge(request: HttpRequest, agent: Agent, number: int) -> HttpResponse:
    """POST /staff/tickets/<number>/merge/: merge this ticket into the one typed in; the agent
    lands on the ticket that survived."""
    pair = _pair(request, agent, number, "merge")
    if pair is None:
        return redirect("staff:ticket", number=number)
    source, target, version = pair
    if version is not None and version != source.version:
        messages.error(
            request,
            _("Ticket %(ref)s changed while you were working on it. Review the latest activity, then try again.")
            % {"ref": source.reference},
        )
        return redirect("staff:ticket", number=number)
    if not _run(request, lambda: services.merge(request.user, target, sources=[source])):
        return redirect("staff:ticket", number=number)
    messages.success(
        request,
        _("%(source)s merged into %(target)s. Its messages are below; %(source)s is closed.")
        % {"source": source.reference, "target": target.reference},
    )
    return redirect("staff:ticket", number=target.number)


@require_POST
@agent_required
def link(request: HttpRequest, agent: Agent, number: int) -> HttpResponse:
    """POST /staff/tickets/<number>/link/: list the typed ticket under this one's related tickets."""
    pair = _pair(request, agent, number, "link")
    if pair is not None:
        ticket, other, _version = pair
        if _run(request, lambda: services.link(request.user, ticket, other=other)):
            messages.success(request, _("Linked to %(ref)s.") % {"ref": other.reference})
    return redirect("staff:ticket", number=number)


@require_POST
@agent_required
def unlink(request: HttpRequest, agent: Agent, number: int) -> HttpResponse:
    """POST /staff/tickets/<number>/unlink/: remove one related ticket from the list (both sides)."""
    pair = _pair(request, agent, number, "unlink")
    if pair is not None:
        ticket, other, _version = pair
        if _run(request, lambda: services.unlink(request.user, ticket, other=other)):
            messages.success(request, _("%(ref)s is no longer linked to this ticket.") % {"ref": other.reference})
    return redirect("staff:ticket", number=number)


# Included from staff/urls.py before the generic ticket action route, which would take these paths.
urlpatterns = [
    path("bulk/", bulk, name="bulk"),
    path("tickets/<int:number>/merge/", merge, name="ticket_merge"),
    path("tickets/<int:number>/link/", link, name="ticket_link"),
    path("tickets/<int:number>/unlink/", unlink, name="ticket_unlink"),
]
