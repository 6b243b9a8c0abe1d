"""Merging duplicates and linking related tickets, from the ticket page's merge and link panel.

Thin adapters: forms.TicketNumberForm reads the other ticket's number, tickets.services
decides and changes, and the answer comes back as a flash message after POST/redirect/GET.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent
from tessera.tickets import selectors, services
from tessera.tickets.models import Ticket

from .access import agent_required
from .forms import TicketNumberForm


def _parse_number(request: HttpRequest, prefix: str) -> TicketNumberForm | None:
    raw = request.POST.get(f"{prefix}-number", "").strip().lstrip("#").strip()
    form = TicketNumberForm({"number": raw, "version": request.POST.get(f"{prefix}-version", "")})
    if form.is_valid():
        return form
    for error in form.errors.get("number", []):
        messages.error(request, str(error))  # ErrorList yields each message as a str
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
def merge(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> HttpResponse:
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
def link(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> HttpResponse:
    """POST /staff/tickets/<number>/link/: list the typed ticket under this one's related tickets."""
    pair = _pair(request, agent, number, "link")
    if pair is not None:
        ticket, other, _version = pair
        if _run(request, lambda: services.link(request.user, ticket, other=other)):
            messages.success(request, _("Linked to %(ref)s.") % {"ref": other.reference})
    return redirect("staff:ticket", number=number)


@require_POST
@agent_required
def unlink(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> HttpResponse:
    """POST /staff/tickets/<number>/unlink/: remove one related ticket from the list (both sides)."""
    pair = _pair(request, agent, number, "unlink")
    if pair is not None:
        ticket, other, _version = pair
        if _run(request, lambda: services.unlink(request.user, ticket, other=other)):
            messages.success(request, _("%(ref)s is no longer linked to this ticket.") % {"ref": other.reference})
    return redirect("staff:ticket", number=number)
