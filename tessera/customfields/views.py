"""Custom fields on the pages: the topic's fields revealed in new-ticket forms, and the answer
panels (ticket, user, organisation) with their one-field inline edit.

GET  /fields/topic/?topic=<id>&audience=user|agent   the fieldsets a topic asks (htmx swaps them in)
GET  /fields/tickets/<number>/                       the ticket's answers panel
GET  /fields/tickets/<number>/<key>/                 the panel with that field's form (htmx), or a page
POST /fields/tickets/<number>/<key>/                 save it (Event on the ticket's timeline)
GET/POST /fields/<user|organization>/<pk>/[<key>/]   the same for people (audit log)

htmx requests get the panel back (400 with the form as typed when invalid, 403 refused, 409
stale); plain requests get a page, or a redirect to the ticket after a save. A ticket the agent
cannot see is a 404, like a ticket that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent, Organization, User
from tessera.fast_html import render_timeline
from tessera.mail import selectors as mail_selectors
from tessera.portal.selectors import public_topics
from tessera.staff.access import agent_required
from tessera.tickets import policy
from tessera.tickets import selectors as ticket_selectors
from tessera.tickets.models import HelpTopic, Ticket
from tessera.tickets.services import StaleTicket

from . import selectors, services
from .models import Field, Target
from .rendering import CustomFieldsForm, fields_form, ticket_fields_form
from .selectors import Shown

TICKET_PANEL = "customfields/_ticket_values.html"
PERSON_PANEL = "customfields/_person_values.html"
OWNER_KINDS = {"user": Target.USER, "organization": Target.ORGANIZATION}


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# ---------------------------------------------------------------------------- the topic's fields


@require_GET
def topic_fields(request: HttpRequest) -> HttpResponse:
    """The fieldsets a help topic asks in a new-ticket form. `audience=agent` (every field) is
    for agents only; end users (and guests) get the fields the end user fills in, for the
    public topics only. No topic: nothing (the form asks only the every-ticket fields)."""
    audience = "agent" if request.GET.get("audience") == "agent" else "user"
    if audience == "agent" and policy.workspace_agent(request.user) is None:
        raise Http404
    raw = request.GET.get("topic", "")
    topic: HelpTopic | None = None
    if raw:
        if not raw.isdecimal() or len(raw) > 18:
            raise Http404
        topics = HelpTopic.objects.filter(is_active=True) if audience == "agent" else public_topics()
        topic = topics.filter(pk=int(raw)).first()
        if topic is None:
            raise Http404
    form = ticket_fields_form(topic, audience)
    return render(request, "customfields/_topic_fields.html", {"form": form})


# ---------------------------------------------------------------------------- the ticket's answers


def _ticket_or_404(agent: Agent, number: int) -> Ticket:
    ticket = ticket_selectors.ticket_for_agent(agent, number)
    if ticket is None:
        raise Http404
    return ticket


@require_GET
@agent_required
def ticket_values(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> HttpResponse:
    ticket = _ticket_or_404(agent, number)
    if not _is_htmx(request):
        return redirect(reverse("staff:ticket", args=[number]) + "#custom-fields")
    return render(request, TICKET_PANEL, {"ticket": ticket, **selectors.ticket_panel_context(request.user, ticket)})


def _editable(shown: list[Shown], key: str) -> Field:
    for item in shown:
        if item.field.key == key and not item.retired:
            return item.field
    raise Http404


@require_http_methods(["GET", "POST"])
@agent_required
def ticket_field(request: AuthenticatedHttpRequest, agent: Agent, number: int, key: str) -> HttpResponse:
    ticket = _ticket_or_404(agent, number)
    context = selectors.ticket_panel_context(request.user, ticket)
    field = _editable(context["custom_fields"], key)
    if not context["may_edit_fields"]:
        return _ticket_panel(request, ticket, context, status=403, saved=_("You cannot change this ticket's details."))
    current = next(s for s in context["custom_fields"] if s.field.pk == field.pk)
    initial = {field.form_name: current.value}
    if request.method == "GET":
        form = fields_form([field], initial=initial)
        return _ticket_panel(request, ticket, context, editing=field, edit_form=form)
    form = fields_form([field], data=request.POST, initial=initial)
    if not form.is_valid():
        return _ticket_panel(request, ticket, context, editing=field, edit_form=form, status=400)
    version = request.POST.get("version", "")
    try:
        changes = services.save_values(
            request.user,
            ticket,
            form.cleaned_data,
            expected_version=int(version) if version.isdecimal() and len(version) < 12 else None,
        )
    except StaleTicket as exc:
        fresh = _ticket_or_404(agent, number)
        form.add_error(None, exc.messages)
        return _ticket_panel(
            request,
            fresh,
            selectors.ticket_panel_context(request.user, fresh),
            editing=field,
            edit_form=form,
            status=409,
        )
    except PermissionDenied as exc:
        return _ticket_panel(request, ticket, context, status=403, saved=str(exc))
    except ValidationError as exc:
        _attach(form, exc)
        return _ticket_panel(request, ticket, context, editing=field, edit_form=form, status=400)
    said = _("%(label)s saved.") % {"label": field.label} if changes else _("Nothing changed.")
    if not _is_htmx(request):
        messages.success(request, said)
        return redirect(reverse("staff:ticket", args=[number]) + "#custom-fields")
    fresh = _ticket_or_404(agent, number)
    timeline = ticket_selectors.timeline(fresh, include_internal=True)
    # The timeline gains the change's Event: swapped in beside the panel (out of band).
    timeline_html = render_timeline(timeline, mail_selectors.original_emails(timeline))
    return _ticket_panel(
        request, fresh, selectors.ticket_panel_context(request.user, fresh), saved=said, timeline_html=timeline_html
    )


def _ticket_panel(
    request: AuthenticatedHttpRequest,
    ticket: Ticket,
    context: dict[str, Any],
    *,
    status: int = 200,
    saved: str = "",
    editing: Field | None = None,
    edit_form: CustomFieldsForm | None = None,
    timeline_html: str = "",
) -> HttpResponse:
    page = {
        "ticket": ticket,
        **context,
        "saved": saved,
        "editing": editing,
        "edit_form": edit_form,
        "oob_timeline": timeline_html,
    }
    if _is_htmx(request):
        return render(request, TICKET_PANEL, page, status=status)
    page |= {
        "panel_template": TICKET_PANEL,
        "title": _("Details of ticket %(ref)s") % {"ref": ticket.reference},
        "back_url": reverse("staff:ticket", args=[ticket.number]),
    }
    return render(request, "customfields/edit_page.html", page, status=status)


def _attach(form: CustomFieldsForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# ---------------------------------------------------------------------------- people's answers


def _owner(kind: str, pk: int) -> User | Organization:
    if kind == "user":
        person = User.objects.filter(pk=pk).first()
        if person is None:
            raise Http404
        return person
    if kind == "organization":
        organization = Organization.objects.filter(pk=pk).first()
        if organization is None:
            raise Http404
        return organization
    raise Http404


def person_panel_context(actor: User, owner: User | Organization) -> dict[str, Any]:
    """What a user or organisation page needs to include customfields/_person_values.html."""
    kind = "organization" if isinstance(owner, Organization) else "user"
    return {
        "owner": owner,
        "owner_kind": kind,
        "custom_fields": selectors.person_panel(owner),
        "may_edit_fields": services.may_edit(actor, owner),
    }


def _person_page(
    request: AuthenticatedHttpRequest,
    context: dict[str, Any],
    *,
    status: int = 200,
    saved: str = "",
    editing: Field | None = None,
    edit_form: CustomFieldsForm | None = None,
) -> HttpResponse:
    page = {**context, "saved": saved, "editing": editing, "edit_form": edit_form}
    if _is_htmx(request):
        return render(request, PERSON_PANEL, page, status=status)
    owner = context["owner"]
    name = owner.display_name if isinstance(owner, User) else owner.name
    page |= {
        "panel_template": PERSON_PANEL,
        "title": _("Details of %(name)s") % {"name": name},
        "back_url": reverse("staff:dashboard"),
    }
    return render(request, "customfields/edit_page.html", page, status=status)


@require_GET
@agent_required
def person_values(request: AuthenticatedHttpRequest, agent: Agent, kind: str, pk: int) -> HttpResponse:
    if not policy.can_read_directory(request.user):
        raise Http404
    return _person_page(request, person_panel_context(request.user, _owner(kind, pk)))


@require_http_methods(["GET", "POST"])
@agent_required
def person_field(request: AuthenticatedHttpRequest, agent: Agent, kind: str, pk: int, key: str) -> HttpResponse:
    if not policy.can_read_directory(request.user):
        raise Http404
    owner = _owner(kind, pk)
    context = person_panel_context(request.user, owner)
    field = _editable(context["custom_fields"], key)
    if not context["may_edit_fields"]:
        return _person_page(request, context, status=403, saved=_("You cannot change their details."))
    current = next(s for s in context["custom_fields"] if s.field.pk == field.pk)
    initial = {field.form_name: current.value}
    if request.method == "GET":
        return _person_page(request, context, editing=field, edit_form=fields_form([field], initial=initial))
    form = fields_form([field], data=request.POST, initial=initial)
    if not form.is_valid():
        return _person_page(request, context, editing=field, edit_form=form, status=400)
    try:
        changes = services.save_values(request.user, owner, form.cleaned_data)
    except PermissionDenied as exc:
        return _person_page(request, context, status=403, saved=str(exc))
    except ValidationError as exc:
        _attach(form, exc)
        return _person_page(request, context, editing=field, edit_form=form, status=400)
    said = _("%(label)s saved.") % {"label": field.label} if changes else _("Nothing changed.")
    fresh = person_panel_context(request.user, owner)
    if not _is_htmx(request):
        messages.success(request, said)
        return redirect("customfields:person_values", kind=kind, pk=pk)
    return _person_page(request, fresh, saved=said)
