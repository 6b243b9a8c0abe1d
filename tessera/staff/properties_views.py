"""The ticket page's properties panel: each select saves where it stands, and a change can be
undone for a few seconds.

POST /staff/tickets/<number>/properties/<name>/ changes one property (htmx sends it when a
select changes); POST /staff/tickets/<number>/properties/ sends the whole panel (its Save
button, without JavaScript); POST /staff/tickets/<number>/undo/ takes one change back. Every
change goes through the ticket services (set_status, set_priority, assign, release, transfer,
set_topic) with the version the agent saw, so nothing is overwritten silently: a stale panel
answers 409 and is drawn again with the ticket as it is now. htmx requests get the panel back
(with the confirmation, the header's badges, the controls notice and the timeline swapped in
beside it); plain POSTs redirect to the ticket with a flash message (POST/redirect/GET), or show
the page again with what was chosen and why it was refused.

Undo carries a token signed with Django's TimestampSigner (ticket, property, previous value,
version after the change, actor): it expires after UNDO_SECONDS, works only for the agent who
made the change and only while nobody has changed the ticket since. The service level's
controls (staff/sla_views.py: "sla_plan", "sla_due") make their changes through `_apply` too and
offer the same Undo; their previous value is the plan the agent had chosen (None: the one the
topic or department gives) and the agent's own due date (None: the plan's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django_htmx.http import HttpResponseClientRedirect

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent, Department, Team, User
from tessera.fast_html import render_timeline
from tessera.mail import selectors as mail_selectors
from tessera.sla.models import SlaPlan
from tessera.tickets import policy, reference, selectors, services
from tessera.tickets.close_guards import CloseRefused
from tessera.tickets.models import HelpTopic, Priority, Status, Ticket
from tessera.tickets.policy import Action

from . import properties_panel
from .access import agent_required
from .forms import PROPERTY_NAMES, PropertiesForm
from .properties_panel import REFUSED, CloseConfirm, Panel
from .views import Submitted, _not_found, _render_ticket, _stale_message, _ticket_missing

UNDO_SECONDS = 10
UNDO_SALT = "tessera.staff.properties.undo"

# Where each property lives on the ticket row.
COLUMNS = {
    "status": "status_id",
    "priority": "priority_id",
    "assignee": "assignee_id",
    "team": "team_id",
    "department": "department_id",
    "topic": "topic_id",
}


def _is_htmx(request: AuthenticatedHttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# The service level's two controls (staff/sla_views.py), undone like the selects above.
SLA_NAMES = ("sla_plan", "sla_due")
UNDOABLE = (*PROPERTY_NAMES, *SLA_NAMES)

Value = int | str | None  # what an undo puts back: a row's id, an ISO date and time, or None


def _snapshot(ticket: Ticket) -> dict[str, Value]:
    """Each undoable property as one value: the selects' ids, the plan an agent chose (None when
    the topic or department chooses it) and an agent's own due date (None when the plan's)."""
    values: dict[str, Value] = {name: getattr(ticket, column) for name, column in COLUMNS.items()}
    values["sla_plan"] = ticket.sla_plan_id if ticket.sla_plan_fixed else None
    values["sla_due"] = ticket.due_at.isoformat() if ticket.due_is_manual and ticket.due_at is not None else None
    return values


# ---------------------------------------------------------------------------- changing


def _apply(
    actor: User,
    ticket: Ticket,
    changes: Mapping[str, Any],
    note: str,
    version: int,
    *,
    confirm_close: bool = False,
) -> list[str]:
    """Make `changes` (property -> new value) through the services, in one transaction: all of
    them or none. Each service checks the version the previous one left; the reason goes with
    the first change whose service takes a note. Moving the ticket comes last, as it may take
    the agent's other rights on it away. `confirm_close`: the agent confirmed closing a ticket
    with open tasks (they close with it). Returns what to tell the agent."""
    said: list[str] = []
    pending = dict(changes)
    with transaction.atomic():
        if "status" in pending:
            status: Status = pending.pop("status")
            ticket = services.set_status(
                actor, ticket, status=status, note=note, expected_version=version, confirm_close=confirm_close
            )
            note, version = "", ticket.version
            said.append(_("Status changed to %(status)s.") % {"status": status.name})
        if "priority" in pending:
            priority: Priority = pending.pop("priority")
            ticket = services.set_priority(actor, ticket, priority=priority, note=note, expected_version=version)
            note, version = "", ticket.version
            said.append(_("Priority changed to %(priority)s.") % {"priority": priority.name})
        if "topic" in pending:
            topic: HelpTopic | None = pending.pop("topic")
            ticket = services.set_topic(actor, ticket, topic=topic, note=note, expected_version=version)
            note, version = "", ticket.version
            if topic is None:
                said.append(_("Help topic removed."))
            else:
                said.append(_("Help topic changed to %(topic)s.") % {"topic": topic.name})
        if "department" in pending:
            department: Department = pending.pop("department")
            # A transfer names the assignee and team chosen with it, so the agent who sends the
            # ticket on (and may lose the right to assign it there) does it in one step.
            agent = pending.pop("assignee", None) if pending.get("assignee") is not None else None
            team = pending.pop("team", None)
            ticket = services.transfer(
                actor, ticket, department=department, agent=agent, team=team, note=note, expected_version=version
            )
            note, version = "", ticket.version
            if agent is not None:
                said.append(
                    _("Ticket transferred to %(department)s and assigned to %(agent)s.")
                    % {"department": department.name, "agent": agent.name}
                )
            else:
                said.append(_("Ticket transferred to %(department)s.") % {"department": department.name})
            if team is not None:
                said.append(_("Ticket assigned to team %(team)s.") % {"team": team.name})
        if "assignee" in pending or "team" in pending:
            agent, team = pending.pop("assignee", None), pending.pop("team", None)
            if agent is None and team is None:  # "Unassigned": back to the pool
                ticket = services.release(actor, ticket, expected_version=version)
                version = ticket.version
                said.append(_("Ticket released: nobody is assigned to it now."))
            else:
                ticket = services.assign(actor, ticket, agent=agent, team=team, note=note, expected_version=version)
                note, version = "", ticket.version
                if agent is not None:
                    said.append(_("Ticket assigned to %(agent)s.") % {"agent": agent.name})
                if team is not None:
                    said.append(_("Ticket assigned to team %(team)s.") % {"team": team.name})
        if "sla_plan" in pending:
            plan: SlaPlan | None = pending.pop("sla_plan")
            ticket = services.set_sla_plan(actor, ticket, plan=plan, expected_version=version)
            version = ticket.version
            if plan is None:
                said.append(_("The help topic or department chooses the SLA plan again."))
            else:
                said.append(_("SLA plan changed to %(plan)s.") % {"plan": plan.name})
        if "sla_due" in pending:
            due_at: datetime | None = pending.pop("sla_due")
            ticket = services.set_due_date(actor, ticket, due_at=due_at, expected_version=version)
            version = ticket.version
            said.append(_("Due date set.") if due_at is not None else _("The SLA plan's due date applies again."))
        if note.strip():
            # Releasing takes no note of its own: the reason is kept as one.
            services.add_note(actor, ticket, note=note, expected_version=version)
    return said


# ---------------------------------------------------------------------------- undo tokens


def _undo_token(actor: User, before: Ticket, after: Ticket, name: str) -> str:
    """A token taking `name` back to its value in `before`, or "" when that cannot be done in one
    step by this agent: the change moved more than this property (a transfer that released the
    assignee, a team that took the ticket off its agent), a team cannot be taken off again, or
    the agent may no longer make this change (they transferred the ticket away)."""
    old, new = _snapshot(before), _snapshot(after)
    if any(old[other] != new[other] for other in UNDOABLE if other != name):
        return ""
    previous = old[name]
    if name == "team" and previous is None:
        return ""
    if not _may_undo(actor, after, name, previous):
        return ""
    payload = {"t": after.pk, "p": name, "v": previous, "n": after.version, "a": actor.pk}
    return signing.TimestampSigner(salt=UNDO_SALT).sign_object(payload)


def _may_undo(actor: User, ticket: Ticket, name: str, previous: Value) -> bool:
    if name == "status":
        status = reference.by_pk(Status).get(previous if isinstance(previous, int) else 0)
        return status is not None and policy.can_set_status(actor, ticket, status.state)
    action = {
        "sla_plan": Action.SLA_PLAN,
        "sla_due": Action.DUE_DATE,
        "priority": Action.PRIORITY,
        "assignee": Action.RELEASE if previous is None else Action.ASSIGN,
        "team": Action.ASSIGN,
        "department": Action.TRANSFER,
        "topic": Action.TOPIC,
    }[name]
    return policy.can(actor, action, ticket)


def _previous_value(name: str, pk: Value) -> tuple[bool, Any]:
    """(found, the object `pk` names for property `name`); None is a value for the assignee
    (unassigned), the topic (none), the plan (the topic's or department's) and the due date (the
    plan's). A plan since made inactive is gone."""
    if pk is None:
        return name in ("assignee", "topic", *SLA_NAMES), None
    if name == "sla_due":
        try:
            due = datetime.fromisoformat(pk) if isinstance(pk, str) else None
        except ValueError:
            due = None
        return due is not None, due
    if not isinstance(pk, int):
        return False, None
    if name == "sla_plan":
        plan = SlaPlan.objects.filter(pk=pk, is_active=True).first()
        return plan is not None, plan
    if name == "assignee":
        agent = Agent.objects.select_related("user").filter(pk=pk).first()
        return agent is not None, agent
    model: type[Model] = {
        "status": Status,
        "priority": Priority,
        "team": Team,
        "department": Department,
        "topic": HelpTopic,
    }[name]
    value = reference.by_pk(model).get(pk)
    return value is not None, value


@dataclass(frozen=True)
class UndoRequest:
    name: str
    previous: Value
    version: int


def _read_token(token: str, ticket: Ticket, actor: User) -> UndoRequest | tuple[int, str]:
    """The undo the token asks for, or (status, why not)."""
    try:
        data = signing.TimestampSigner(salt=UNDO_SALT).unsign_object(token, max_age=UNDO_SECONDS)
    except signing.SignatureExpired:
        return 400, _(
            "Too late to undo: a change can be undone for %(seconds)d seconds. Change it back in the panel instead."
        ) % {"seconds": UNDO_SECONDS}
    except signing.BadSignature:
        return 400, _("This undo request is not valid. Change the value back in the panel instead.")
    if not isinstance(data, dict) or data.get("t") != ticket.pk or data.get("p") not in UNDOABLE:
        return 400, _("This undo request is not valid. Change the value back in the panel instead.")
    if data.get("a") != actor.pk:
        return 403, _("Only the agent who made a change can undo it.")
    previous, version = data.get("v"), data.get("n")
    kind = str if data["p"] == "sla_due" else int
    if not (previous is None or isinstance(previous, kind)) or not isinstance(version, int):
        return 400, _("This undo request is not valid. Change the value back in the panel instead.")
    return UndoRequest(str(data["p"]), previous, version)


# ---------------------------------------------------------------------------- answers


def _panel_response(
    request: AuthenticatedHttpRequest,
    agent: Agent,
    panel: Panel,
    *,
    status: int = 200,
    said: str = "",
    undo: str = "",
) -> HttpResponse:
    """The panel drawn again for htmx, with the pieces of the page it changes swapped in beside
    it (out of band): the confirmation, the header's badges, the controls notice, the timeline."""
    ticket = panel.ticket
    able = properties_panel.abilities(request.user, ticket)
    timeline = selectors.timeline(ticket, include_internal=True)
    context = {
        "ticket": ticket,
        "panel": panel,
        "said": said,
        "undo": undo,
        "undo_seconds": UNDO_SECONDS,
        "controls_notice": properties_panel.notice(request.user, ticket, able, panel),
        "timeline_html": render_timeline(timeline, mail_selectors.original_emails(timeline)),
        "oob": True,
    }
    return render(request, "staff/_properties_response.html", context, status=status)


def _lost_sight(request: AuthenticatedHttpRequest, number: int, said: list[str]) -> HttpResponse:
    for line in said:
        messages.success(request, line)
    messages.info(request, _("Ticket #%(number)s is no longer in your departments or queues.") % {"number": number})
    if _is_htmx(request):
        return HttpResponseClientRedirect(reverse("staff:dashboard"))
    return redirect("staff:dashboard")


def _add_service_errors(form: PropertiesForm, exc: ValidationError) -> list[str]:
    """A service's errors at the matching selects (a transfer's "agent" is the assignee);
    anything else is returned for the top of the panel."""
    rest: list[str] = []
    if hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            name = "assignee" if key == "agent" else key
            if name in form.fields:
                form.add_error(name, errors)
            else:
                rest += [str(m) for e in errors for m in e.messages]
    else:
        rest += exc.messages
    return rest


# ---------------------------------------------------------------------------- views


@require_POST
@agent_required
def save_property(request: AuthenticatedHttpRequest, agent: Agent, number: int, name: str) -> HttpResponse:
    """One select changed (htmx, or a plain POST naming one property)."""
    if name not in PROPERTY_NAMES:
        return _not_found(request, _("A ticket has no such property."))
    return _save(request, agent, number, (name,))


@require_POST
@agent_required
def save_properties(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> HttpResponse:
    """The whole panel, sent with its Save button (the page without JavaScript)."""
    return _save(request, agent, number, PROPERTY_NAMES)


def _save(request: AuthenticatedHttpRequest, agent: Agent, number: int, names: tuple[str, ...]) -> HttpResponse:
    found = selectors.ticket_for_agent(agent, number)
    if found is None:
        return _ticket_missing(request, number)
    user = request.user
    able = properties_panel.abilities(user, found)
    lists = properties_panel.choices(found, able)
    allowed = properties_panel.editable(able, found, len(lists.statuses))
    form = PropertiesForm(request.POST, prefix="props", choices=lists)

    def again(
        status: int, problems: list[str], *, keep: bool = True, confirm: CloseConfirm | None = None
    ) -> HttpResponse:
        """The panel (or the page) again: as chosen (400), or as the ticket is now (403, 409)."""
        fresh = selectors.ticket_for_agent(agent, number)
        if fresh is None:
            return _lost_sight(request, number, [])
        panel = properties_panel.build(
            user,
            fresh,
            data=request.POST if keep else None,
            errors=form.errors if keep else None,
            problems=problems,
        )
        panel.close_confirm = confirm
        if _is_htmx(request):
            return _panel_response(request, agent, panel, status=status)
        submitted = Submitted("properties", request.POST, form.errors if keep else None, problems)
        return _render_ticket(request, agent, fresh, submitted=submitted, panel=panel, status=status)

    if len(names) == 1 and not allowed[names[0]]:
        return again(403, [str(REFUSED[names[0]])], keep=False)
    # A select the agent may not use is not drawn, so a value for it that differs from the
    # ticket's is forged: refused before its value is even looked at.
    current = _snapshot(found)
    for name in names:
        raw = request.POST.get(form.add_prefix(name))
        if raw is not None and not allowed[name] and raw != str(current[name] or ""):
            return again(403, [str(REFUSED[name])], keep=False)
    if not form.is_valid():
        return again(400, [])
    changes = form.changes(names)
    if form.cleaned_data["version"] != found.version:
        return again(409, [_stale_message(found)], keep=False)
    if not changes:
        if len(names) == 1:
            form.add_error(
                names[0], _("That is already the ticket's %(what)s.") % {"what": form.fields[names[0]].label}
            )
            return again(400, [])
        messages.info(request, _("Nothing was changed: every property is as it was."))
        return redirect("staff:ticket", number=number)
    before = found
    confirm_close = request.POST.get(form.add_prefix("close_tasks")) == "1"
    try:
        said = _apply(user, found, changes, form.cleaned_data["note"], found.version, confirm_close=confirm_close)
    except services.StaleTicket as exc:
        return again(409, exc.messages, keep=False)
    except CloseRefused as exc:
        # Open tasks: say so, keep the status chosen, and offer to close them with the ticket.
        status_id = changes["status"].pk if "status" in changes else found.status_id
        return again(409, [exc.detail], confirm=CloseConfirm(status_id, exc.confirm_label))
    except ValidationError as exc:
        return again(400, _add_service_errors(form, exc))
    except PermissionDenied as exc:
        return again(403, [str(exc)], keep=False)

    fresh = selectors.ticket_for_agent(agent, number)
    if fresh is None:
        return _lost_sight(request, number, said)
    if not _is_htmx(request):
        for line in said:
            messages.success(request, line)
        return redirect("staff:ticket", number=number)
    undo = _undo_token(user, before, fresh, names[0]) if len(names) == 1 else ""
    return _panel_response(request, agent, properties_panel.build(user, fresh), said=" ".join(said), undo=undo)


@require_POST
@agent_required
def undo(request: AuthenticatedHttpRequest, agent: Agent, number: int) -> HttpResponse:
    """Take back the change an undo token describes, through the same services (its own Event)."""
    found = selectors.ticket_for_agent(agent, number)
    if found is None:
        return _ticket_missing(request, number)
    user = request.user

    def refuse(status: int, problem: str) -> HttpResponse:
        if _is_htmx(request):
            panel = properties_panel.build(user, found, problems=[problem])
            return _panel_response(request, agent, panel, status=status)
        submitted = Submitted("properties", request.POST, None, [problem])
        panel = properties_panel.build(user, found, problems=[problem])
        return _render_ticket(request, agent, found, submitted=submitted, panel=panel, status=status)

    asked = _read_token(str(request.POST.get("token", "")), found, user)
    if not isinstance(asked, UndoRequest):
        return refuse(*asked)
    if asked.version != found.version:
        return refuse(409, _stale_message(found))
    exists, previous = _previous_value(asked.name, asked.previous)
    if not exists:
        return refuse(400, _("This change can no longer be undone: the old value is gone."))
    try:
        said = _apply(user, found, {asked.name: previous}, "", asked.version)
    except services.StaleTicket as exc:
        return refuse(409, exc.messages[0])
    except ValidationError as exc:
        return refuse(400, " ".join(exc.messages))
    except PermissionDenied as exc:
        return refuse(403, str(exc))
    fresh = selectors.ticket_for_agent(agent, number)
    said = [_("Undone."), *said]
    if fresh is None:
        return _lost_sight(request, number, said)
    if not _is_htmx(request):
        for line in said:
            messages.success(request, line)
        return redirect("staff:ticket", number=number)
    return _panel_response(request, agent, properties_panel.build(user, fresh), said=" ".join(said))
