"""The agent workspace: sign-in, the number box, the ticket page and its actions, attachment downloads.

A thin adapter: reads go through tickets.selectors, every change through tickets.services,
and what an agent may see or do is asked of tickets.policy. The views only turn the answers
into pages, status codes and flash messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.utils import ErrorDict
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent, User
from tessera.canned import selectors as canned_selectors
from tessera.canned import services as canned_services
from tessera.customfields import selectors as customfield_selectors
from tessera.fast_html import render_timeline
from tessera.mail import selectors as mail_selectors
from tessera.tasks import selectors as task_selectors
from tessera.tickets import attachments as attachment_store
from tessera.tickets import locks, policy, selectors, services
from tessera.tickets.models import Event, Source, ThreadEntry, Ticket

from . import properties_panel
from .access import INLINE_IMAGE_TYPES, agent_required
from .crossing import Crossing, reply_crossing
from .forms import (
    AddCollaboratorForm,
    ClaimForm,
    NoteForm,
    ReleaseForm,
    RemoveCollaboratorForm,
    ReplyForm,
    StaffAuthenticationForm,
    TicketActionForm,
)
from .mail_problems import mail_problems
from .queue_nav import queue_nav

DEFAULT_POLL_SECONDS = 10


# ---------------------------------------------------------------------------- signing in and out


class StaffLoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    authentication_form = StaffAuthenticationForm
    next_page = "staff:dashboard"  # a URL name: resolve_url() reverses it

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # An agent who is already signed in has nothing to do here; anyone else may want to
        # switch to an agent account, so they get the form.
        if request.method == "GET" and policy.may_enter_workspace(request.user):
            return HttpResponseRedirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)


class StaffLogoutView(auth_views.LogoutView):
    next_page = "staff:login"  # a URL name: resolve_url() reverses it

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.success(request, _("You have signed out."))
        return response


@require_GET
@agent_required
def jump(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    """Old links to the number box keep working: a number opens that ticket, text is searched."""
    query = request.GET.get("q", "").strip()
    number = query.lstrip("#").strip()
    if number.isdecimal() and len(number) < 19:
        return redirect("staff:ticket", number=int(number))
    if query:
        return redirect(f"{reverse('staff:search')}?{urlencode({'q': query})}")
    back = request.GET.get("from", "")
    return redirect(back if _is_local_path(back) else "staff:dashboard")


def _is_local_path(url: str) -> bool:
    return url.startswith("/staff/") and not url.startswith("//") and "\\" not in url


def _not_found(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "staff/not_found.html", {"message": message}, status=404)


def _ticket_missing(request: HttpRequest, number: int) -> HttpResponse:
    # One answer for "no such ticket" and "not yours to see": the difference is not ours to reveal.
    return _not_found(
        request, _("Ticket #%(number)s does not exist or is not in your departments.") % {"number": number}
    )


# ---------------------------------------------------------------------------- ticket actions


def _reply(actor: User, ticket: Ticket, data: dict[str, Any]) -> str:
    canned = canned_selectors.several_for_ticket(ticket, data["canned"])
    if len(canned) != len(data["canned"]):
        raise ValidationError(
            {"message": _("A canned response you inserted is no longer offered on this ticket: insert it again.")}
        )
    services.reply(
        actor,
        ticket,
        message=data["message"],
        uploads=[
            *attachment_store.from_uploaded_files(data["attachments"]),
            *canned_services.reply_uploads(canned),
        ],
        status=data["status"],
        source=Source.STAFF,
        expected_version=data["version"],
        signature=data["signature"],
    )
    canned_services.count_use(canned)  # counted when the reply that used them is sent
    locks.release_lock(actor, ticket)  # sent: nobody is writing on this ticket any more
    if data["status"] is not None:
        return _("Reply sent. The ticket is now %(status)s.") % {"status": data["status"].name}
    return _("Reply sent.")


def _note(actor: User, ticket: Ticket, data: dict[str, Any]) -> str:
    services.add_note(
        actor,
        ticket,
        note=data["note"],
        uploads=attachment_store.from_uploaded_files(data["attachments"]),
        expected_version=data["version"],
    )
    return _("Internal note added.")


def _claim(actor: User, ticket: Ticket, data: dict[str, Any]) -> str:
    services.claim(actor, ticket, expected_version=data["version"])
    return _("Ticket claimed: it is now assigned to you.")


def _release(actor: User, ticket: Ticket, data: dict[str, Any]) -> str:
    services.release(actor, ticket, expected_version=data["version"])
    return _("Ticket released: nobody is assigned to it now.")


def _add_collaborator(actor: User, ticket: Ticket, data: dict[str, Any]) -> str:
    collab = services.add_collaborator_by_email(actor, ticket, email=data["email"])
    return _("%(name)s is now copied on this ticket.") % {"name": collab.user.display_name}


def _remove_collaborator(actor: User, ticket: Ticket, data: dict[str, Any]) -> str:
    services.remove_collaborator(actor, ticket, user=data["user"])
    return _("%(name)s is no longer copied on this ticket.") % {"name": data["user"].display_name}


@dataclass(frozen=True)
class TicketAction:
    """One of the ticket page's forms: how it parses, what it does, what it says when refused."""

    form_class: type[TicketActionForm]
    perform: Callable[[User, Ticket, dict[str, Any]], str]
    refused: StrOrPromise  # said when policy refuses before the form is even valid


ACTIONS: dict[str, TicketAction] = {
    "reply": TicketAction(ReplyForm, _reply, gettext_lazy("You cannot reply to this ticket.")),
    "note": TicketAction(NoteForm, _note, gettext_lazy("You cannot add notes to this ticket.")),
    "claim": TicketAction(ClaimForm, _claim, gettext_lazy("You cannot claim this ticket.")),
    "release": TicketAction(ReleaseForm, _release, gettext_lazy("You cannot release this ticket.")),
    "add-collaborator": TicketAction(
        AddCollaboratorForm, _add_collaborator, gettext_lazy("You cannot change who is copied on this ticket.")
    ),
    "remove-collaborator": TicketAction(
        RemoveCollaboratorForm, _remove_collaborator, gettext_lazy("You cannot change who is copied on this ticket.")
    ),
}


@dataclass
class Submitted:
    """A form that came back with a problem, to show again on the refreshed ticket page."""

    action: str
    data: QueryDict
    errors: ErrorDict | None
    problems: list[str]
    crossing: Crossing | None = None  # the reply waits for "Send anyway"


def poll_seconds() -> int:
    """How often the ticket page polls who is replying (settings.TESSERA["POLL_SECONDS"])."""
    return max(1, int(settings.TESSERA.get("POLL_SECONDS", DEFAULT_POLL_SECONDS)))


def _page_extras(
    request: AuthenticatedHttpRequest, agent: Agent, ticket: Ticket, timeline: list[ThreadEntry | Event]
) -> dict[str, Any]:
    """What ticket.html needs on top of the core page. A fixed number of queries: the
    requester's other tickets (one), the reply lock (one), email that did not go out (one), the
    ticket's tasks (one), and — only on arrival from a queue — the two neighbour lookups. Files
    come from the timeline's prefetched attachments."""
    entries = [item for item in timeline if isinstance(item, ThreadEntry)]
    tasks = task_selectors.ticket_tasks(ticket)
    return {
        "ticket_tasks": tasks,
        "open_task_count": sum(1 for task in tasks if task.is_open),
        "can_create_task": policy.can_create_task(request.user, ticket=ticket),
        "other_tickets": selectors.other_tickets_of_requester(agent, ticket),
        "queue_nav": queue_nav(request, agent, ticket),
        "presence_holder": locks.lock_held_by_other(request.user, ticket),
        "poll_seconds": poll_seconds(),
        "last_entry_id": max((e.pk for e in entries), default=0),
        # entry.files: the timeline selector prefetches each entry's attachments under this name.
        "files": [(entry, file) for entry in entries for file in entry.files],  # type: ignore[attr-defined]
        "mail_problems": mail_problems(ticket),
    }


def _render_ticket(
    request: AuthenticatedHttpRequest,
    agent: Agent,
    ticket: Ticket,
    *,
    submitted: Submitted | None = None,
    panel: properties_panel.Panel | None = None,
    status: int = 200,
) -> HttpResponse:
    """The ticket page. `submitted` is a form that came back (an action form, or the properties
    panel: then `panel` holds it as chosen), shown with its problems."""
    abilities = properties_panel.abilities(request.user, ticket)
    choices = properties_panel.choices(ticket, abilities)
    forms: dict[str, TicketActionForm] = {}
    for slug, spec in ACTIONS.items():
        if submitted is not None and slug == submitted.action:
            # Rebuilt against this page's lists (the ticket may have moved on), keeping what was
            # typed. The template writes the hidden version from the fresh ticket, so sending
            # the form again after a 409 works.
            form = spec.form_class(submitted.data, prefix=slug, choices=choices)
            # Django's own store of a bound form's errors (the stubs leave it out): set, so the
            # rebuilt form shows what was refused without validating again.
            form._errors = submitted.errors if submitted.errors is not None else ErrorDict()  # type: ignore[attr-defined]
        else:
            form = spec.form_class(prefix=slug, choices=choices)
        forms[slug] = form
    reply_form = cast(ReplyForm, forms["reply"])
    signature_note = reply_form.offer_signatures(agent.signature, ticket.department)
    if panel is None:
        panel = properties_panel.build(request.user, ticket, able=abilities, lists=choices)
    show = {slug: abilities[slug] for slug in ACTIONS}
    timeline = selectors.timeline(ticket, include_internal=True)
    if submitted is None:
        bound: TicketActionForm | None = None
        bound_shown = False
    elif submitted.action == "properties":
        bound, bound_shown = panel.form, True
    else:
        bound, bound_shown = forms[submitted.action], show[submitted.action]
    context = {
        **_page_extras(request, agent, ticket, timeline),
        "ticket": ticket,
        "timeline": timeline,
        "timeline_html": render_timeline(timeline, mail_selectors.original_emails(timeline)),
        "collaborators": choices.collaborators,
        # Templates cannot look up "add-collaborator"; they get "add_collaborator".
        "forms": {slug.replace("-", "_"): form for slug, form in forms.items()},
        "show": {slug.replace("-", "_"): shown for slug, shown in show.items()},
        "panel": panel,
        "composer_tab": "note" if submitted is not None and submitted.action == "note" else "reply",
        "controls_notice": properties_panel.notice(request.user, ticket, abilities, panel),
        "submitted": submitted,
        "bound": bound,
        "bound_shown": bound_shown,
        "status_code": status,
        "signature_note": signature_note,
        "canned_kept": _canned_kept(ticket, submitted),
        "canned_usable": show["reply"] and policy.can_use_canned(request.user, ticket),
        # Answers to custom fields (customfields/_ticket_values.html), editable by the manage right.
        **customfield_selectors.ticket_panel_context(request.user, ticket),
    }
    return render(request, "staff/ticket.html", context, status=status)


def _canned_kept(ticket: Ticket, submitted: Submitted | None) -> list[Any]:
    """The canned responses inserted into a reply that came back, so their files still go with
    it (and the page says which); one query, only then."""
    if submitted is None or submitted.action != "reply":
        return []
    ids = [int(value) for value in submitted.data.getlist("reply-canned") if value.isdecimal() and len(value) < 10]
    return canned_selectors.several_for_ticket(ticket, ids[:20]) if ids else []


@require_GET
@agent_required
def ticket(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> HttpResponse:
    found = selectors.ticket_for_agent(agent, number)
    if found is None:
        return _ticket_missing(request, number)
    return _render_ticket(request, agent, found)


def _add_service_errors(form: TicketActionForm, exc: ValidationError) -> None:
    """Put a service's errors next to the matching fields; anything else goes to the form's top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _stale_message(ticket: Ticket) -> str:
    return _("Ticket %(ref)s changed while you were working on it. Review the latest activity, then try again.") % {
        "ref": ticket.reference
    }


@agent_required
def ticket_action(request: AuthenticatedHttpRequest, agent: Agent, number: int, action: str) -> HttpResponse:
    """One POST per action. Success redirects (POST/redirect/GET) with a flash message; a problem
    shows the ticket again with the form as typed: 400 invalid, 403 refused, 409 stale."""
    spec = ACTIONS.get(action)
    if spec is None:
        return _not_found(request, _("There is no such action on a ticket."))
    if request.method != "POST":
        return redirect("staff:ticket", number=number)
    found = selectors.ticket_for_agent(agent, number)
    if found is None:
        return _ticket_missing(request, number)

    user = request.user
    abilities = properties_panel.abilities(user, found)
    form = spec.form_class(
        request.POST, request.FILES, prefix=action, choices=properties_panel.choices(found, abilities)
    )

    def again(
        status: int, problems: list[str], *, keep_errors: bool = True, crossing: Crossing | None = None
    ) -> HttpResponse:
        if request.FILES:
            problems = [*problems, _("Attach your files again: files are not kept when a form comes back.")]
        fresh = selectors.ticket_for_agent(agent, number)
        if fresh is None:
            # The ticket left this agent's reach meanwhile; say why on the dashboard.
            for problem in [*problems, *form.non_field_errors()]:
                messages.error(request, problem)
            return redirect("staff:dashboard")
        submitted = Submitted(action, request.POST, form.errors if keep_errors else None, problems, crossing)
        return _render_ticket(request, agent, fresh, submitted=submitted, status=status)

    if not form.is_valid():
        if not abilities[action]:
            # Refused before anything else: validation details would only distract.
            return again(403, [str(spec.refused)], keep_errors=False)
        return again(400, [])
    stale = form.cleaned_data["version"] != found.version
    # A reply never silently crosses another agent's: a reply posted since the form was loaded,
    # or someone writing one right now, sends it back for "Send anyway" (the lock is advisory).
    crossing = reply_crossing(request, found, stale=stale) if action == "reply" else None
    if crossing is not None:
        return again(409, crossing.problems, crossing=crossing)
    if stale:
        # Checked here as well as in the service, so that a change made meanwhile (say, someone
        # else claimed the ticket) reads as "it changed" rather than as a refusal.
        return again(409, [_stale_message(found)])
    try:
        message = spec.perform(user, found, form.cleaned_data)
    except services.StaleTicket as exc:
        return again(409, exc.messages)
    except ValidationError as exc:
        _add_service_errors(form, exc)
        return again(400, [])
    except PermissionDenied as exc:
        return again(403, [str(exc) or str(spec.refused)])

    messages.success(request, message)
    if selectors.ticket_for_agent(agent, number) is None:
        messages.info(request, _("Ticket #%(number)s is no longer in your departments or queues.") % {"number": number})
        return redirect("staff:dashboard")
    return redirect("staff:ticket", number=number)


# ---------------------------------------------------------------------------- attachments


@require_GET
@agent_required
def attachment(request: AuthenticatedHttpRequest, agent: Agent, attachment_id: int) -> HttpResponse | FileResponse:
    found = selectors.attachment_with_ticket(attachment_id)
    if found is None or not policy.can_see_entry(request.user, found.entry):
        return _not_found(request, _("This file does not exist or is not on a ticket you can see."))
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        return _not_found(request, _("This file is missing from the attachment store."))
    content_type = attachment_store.served_content_type(found.content_type)
    response = FileResponse(
        handle,
        as_attachment=content_type not in INLINE_IMAGE_TYPES,
        filename=found.name,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=0"
    return response
