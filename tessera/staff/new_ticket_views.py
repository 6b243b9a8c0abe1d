"""The workspace's "New ticket" page: GET/POST /staff/tickets/new/ (the `n` key opens it).

An agent opens a ticket for someone who phoned, walked in, wrote or reached the desk another
way: an end user found with the people lookup (people_lookup_views) or a new one. A thin
adapter over services.open_ticket_for_caller; what the agent may choose comes from the policy.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent, Membership, User
from tessera.customfields.rendering import CustomFieldsForm, ticket_fields_form
from tessera.tickets import attachments as attachment_store
from tessera.tickets import policy, selectors, services
from tessera.tickets.models import HelpTopic, Ticket
from tessera.tickets.policy import Action

from .access import agent_required
from .new_ticket_forms import NewTicketChoices, NewTicketForm, requester_label

# Service errors by field name, for fields the form draws under another name.
FIELD_FOR = {"requester": "requester_search", "email": "requester_email", "agent": "assignee", "note": "internal_note"}


def new_ticket_choices(actor: User) -> NewTicketChoices:
    """The form's lists: departments the agent may open tickets in, and what they may do there."""
    departments = [d for d in selectors.department_choices() if policy.can_open_in(actor, d)]
    assign_in = [d for d in departments if policy.can_act_in(actor, Action.ASSIGN, d)]
    agents: list[Agent] = []
    if assign_in:
        agents = list(selectors.agent_choices(assign_in[0].pk))
        if all(d.assign_members_only for d in assign_in):
            # Every department it could go to takes only its own members (policy.may_be_assigned).
            members = set(Membership.objects.filter(department__in=assign_in).values_list("agent_id", flat=True))
            agents = [a for a in agents if a.pk in members]
    return NewTicketChoices(
        topics=selectors.topic_choices(),
        departments=departments,
        priorities=selectors.priority_choices(),
        agents=agents,
        teams=selectors.team_choices() if assign_in else [],
        may_prioritise=any(policy.can_act_in(actor, Action.PRIORITY, d) for d in departments),
        may_assign=bool(assign_in),
        may_note=any(policy.can_act_in(actor, Action.NOTE, d) for d in departments),
        may_copy=any(policy.can_act_in(actor, Action.MANAGE, d) for d in departments),
    )


def _chosen_requester(form: NewTicketForm) -> User | None:
    """The person picked in the lookup, to write back into the page (any account: the service
    says why it refuses one)."""
    pk = form.cleaned_data.get("requester") if hasattr(form, "cleaned_data") else None
    if pk is None:
        raw = form.data.get("requester", "")
        pk = int(raw) if raw.isdecimal() and len(raw) < 12 else None
    return User.objects.filter(pk=pk).first() if pk else None


def _put_errors(form: NewTicketForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, errors in error.message_dict.items():
        name = FIELD_FOR.get(field, field)
        form.add_error(name if name in form.fields else None, errors)


def _posted_topic(form: NewTicketForm, choices: NewTicketChoices) -> HelpTopic | None:
    """The topic chosen in the form, for its fields; one the form does not offer asks none."""
    raw = form.data.get("topic", "")
    if not raw.isdecimal() or len(raw) > 18:
        return None
    return next((t for t in choices.topics if t.is_active and t.pk == int(raw)), None)


def _put_field_errors(form: NewTicketForm, fields_form: CustomFieldsForm, error: ValidationError) -> None:
    """A service's errors next to the inputs they name, in whichever of the two forms has them."""
    if hasattr(error, "error_dict"):
        for name in list(error.error_dict):
            if name in fields_form.fields:
                fields_form.add_error(name, error.error_dict.pop(name))
        if not error.error_dict:
            return
    _put_errors(form, error)


def _open(
    request: AuthenticatedHttpRequest, form: NewTicketForm, requester: User | None, answers: dict[str, object]
) -> Ticket:
    data = form.cleaned_data
    new = None
    if requester is None and data.get("requester_email"):
        new = services.NewRequester(
            email=data["requester_email"],
            name=data.get("requester_name") or "",
            phone=data.get("requester_phone") or "",
        )
    return services.open_ticket_for_caller(
        request.user,
        requester=requester,
        new_requester=new,
        subject=data["subject"],
        message=data["message"],
        topic=data.get("topic"),
        department=data.get("department"),
        priority=data.get("priority"),
        source=data["source"],
        assignee=data.get("assignee"),
        team=data.get("team"),
        internal_note=data.get("internal_note") or "",
        uploads=attachment_store.from_uploaded_files(data["attachments"]),
        collaborators=data.get("collaborators") or [],
        notify_user=data["notify_user"],
        custom_values=answers,
    )


@require_http_methods(["GET", "POST"])
@agent_required
def new_ticket(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    choices = new_ticket_choices(request.user)
    if request.method != "POST":
        form = NewTicketForm(choices=choices)
        return _page(request, form, None, ticket_fields_form(None, "agent"))
    form = NewTicketForm(request.POST, request.FILES, choices=choices)
    # The chosen topic's fields, checked with the rest: without JavaScript they first appear here.
    fields_form = ticket_fields_form(_posted_topic(form, choices), "agent", data=request.POST)
    requester = None
    fields_valid = fields_form.is_valid()
    if form.is_valid() and fields_valid:
        requester = _chosen_requester(form)
        if form.cleaned_data.get("requester") is not None and requester is None:
            form.add_error("requester_search", _("Choose the person from the list."))
        else:
            try:
                ticket = _open(request, form, requester, fields_form.cleaned_data)
            except services.TicketRefused as refused:
                form.add_error(
                    None,
                    _("A routing rule refused this ticket, so nothing was saved: %(why)s") % {"why": refused.message},
                )
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or _("You cannot open this ticket."))
            except ValidationError as exc:
                _put_field_errors(form, fields_form, exc)
            else:
                return _opened(request, agent, ticket)
    else:
        requester = _chosen_requester(form)
    return _page(request, form, requester, fields_form, status=400)


def _opened(request: AuthenticatedHttpRequest, agent: Agent, ticket: Ticket) -> HttpResponse:
    if policy.sees(agent, ticket):
        messages.success(request, _("Ticket #%(number)s is open.") % {"number": ticket.number})
        return redirect("staff:ticket", number=ticket.number)
    # A routing rule sent it where the agent has no view of it.
    messages.success(
        request,
        _("Ticket #%(number)s is open. A routing rule sent it to %(dept)s, which you cannot see.")
        % {"number": ticket.number, "dept": ticket.department.name},
    )
    return redirect("staff:dashboard")


def _page(
    request: AuthenticatedHttpRequest,
    form: NewTicketForm,
    requester: User | None,
    fields_form: CustomFieldsForm,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "fields_form": fields_form,
        "chosen": requester,
        "chosen_label": requester_label(requester) if requester is not None else "",
    }
    return render(request, "staff/new_ticket.html", context, status=status)
