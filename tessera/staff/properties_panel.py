"""What the ticket page's properties panel shows and lets this agent change, built once per page.

Shared by the ticket page (views._render_ticket) and the panel's own views (properties_views),
which re-draw the panel after each change. Every "may they?" is asked of tickets.policy once per
page (`abilities`); every list comes from a selector read once per request (`choices`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.forms import BoundField
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tessera.accounts.models import User
from tessera.fast_html import due_element
from tessera.sla import plans
from tessera.tickets import policy, selectors
from tessera.tickets.models import Ticket
from tessera.tickets.policy import Action

from .forms import PROPERTY_NAMES, ClaimForm, PropertiesForm, ReleaseForm, TicketChoices

# Each property's keyboard shortcut (static/js/shortcuts.js via ticket.js; listed in _shortcuts.html).
SHORTCUTS = {"status": "s", "priority": "p", "assignee": "a", "team": "t", "department": "d", "topic": "h"}

# Said when policy refuses a property before anything else is looked at.
REFUSED = {
    "status": gettext_lazy("You cannot change this ticket's status."),
    "priority": gettext_lazy("You cannot change this ticket's priority."),
    "assignee": gettext_lazy("You cannot assign this ticket."),
    "team": gettext_lazy("You cannot assign this ticket."),
    "department": gettext_lazy("You cannot transfer this ticket."),
    "topic": gettext_lazy("You cannot change this ticket's help topic."),
}


def abilities(user: User, ticket: Ticket) -> dict[str, Any]:
    """Which of the ticket page's controls policy lets this agent use, asked once per page.

    "settable_states" says which statuses the selects may offer (policy.settable_states:
    closing and archiving need the close permission, every other status the status one)."""

    def can(action: Action) -> bool:
        return policy.can(user, action, ticket)

    manage = can(Action.MANAGE)
    settable = policy.settable_states(user, ticket)
    return {
        "reply": can(Action.REPLY),
        "note": can(Action.NOTE),
        "assign": can(Action.ASSIGN),
        "claim": can(Action.CLAIM),
        "release": ticket.assignee_id is not None and can(Action.RELEASE),
        "transfer": can(Action.TRANSFER),
        "priority": can(Action.PRIORITY),
        "status": bool(settable),
        "topic": can(Action.TOPIC),
        "add-collaborator": manage,
        "remove-collaborator": manage,
        "settable_states": settable,
    }


def choices(ticket: Ticket, able: dict[str, Any]) -> TicketChoices:
    settable = able["settable_states"]
    agents = selectors.agent_choices(ticket.department_id)
    return TicketChoices(
        statuses=[s for s in selectors.status_choices() if s.state in settable or s.pk == ticket.status_id],
        current_status=ticket.status,
        priorities=selectors.priority_choices(),
        departments=selectors.department_choices(),
        agents=agents,
        teams=selectors.team_choices(),
        collaborators=selectors.collaborators(ticket),
        department=ticket.department,
        ticket=ticket,
        topics=selectors.topic_choices(),
        assignable=policy.assignable_agents(agents, ticket, ticket.department) if able["assign"] else [],
    )


def editable(able: dict[str, Any], ticket: Ticket, statuses_offered: int) -> dict[str, bool]:
    """Which properties this agent may change here; the others are shown as text."""
    return {
        # A status select whose only choice is the current status offers nothing.
        "status": able["status"] and statuses_offered > 1,
        "priority": able["priority"],
        "assignee": able["assign"],
        "team": able["assign"],
        "department": able["transfer"],
        "topic": able["topic"],
    }


@dataclass(frozen=True)
class Control:
    """One property as the panel draws it: a select, or its value as text."""

    name: str
    label: str
    key: str
    field: BoundField | None  # None: read-only
    value: str


@dataclass(frozen=True)
class SlaControls:
    """The panel's service-level line (time left or overdue) and, for an agent with the right,
    the plan and due-date controls (sla_views)."""

    due: str  # fast_html.due_element: "due in 2 h 10 min", exact time on hover
    plan_name: str
    manual: bool  # the due date was set by an agent
    can_plan: bool
    can_due: bool
    plans: list[tuple[int, str]]
    plan_value: str  # "" while the topic or department chooses the plan
    due_value: str  # the agent's own due date for <input type=datetime-local>, viewer's zone


def sla_controls(user: User, ticket: Ticket) -> SlaControls:
    found = plans.catalogue()
    plan = found.plans.get(ticket.sla_plan_id) if ticket.sla_plan_id is not None else None
    due_value = ""
    if ticket.due_is_manual and ticket.due_at is not None:
        due_value = timezone.localtime(ticket.due_at).strftime("%Y-%m-%dT%H:%M")
    return SlaControls(
        due=due_element(ticket),
        plan_name=plan.name if plan is not None else _("No SLA plan"),
        manual=ticket.due_is_manual,
        can_plan=policy.can(user, Action.SLA_PLAN, ticket),
        can_due=policy.can(user, Action.DUE_DATE, ticket),
        plans=sorted(((p.id, p.name) for p in found.plans.values() if p.is_active), key=lambda pair: pair[1]),
        plan_value=str(ticket.sla_plan_id) if ticket.sla_plan_fixed and ticket.sla_plan_id else "",
        due_value=due_value,
    )


@dataclass(frozen=True)
class CloseConfirm:
    """A close the guards refused (open tasks): the status asked for and what confirming does."""

    status_id: int
    label: str


@dataclass
class Panel:
    ticket: Ticket
    form: PropertiesForm
    controls: list[Control]
    claim: ClaimForm | None
    release: ReleaseForm | None
    problems: list[str] = field(default_factory=list)
    sla: SlaControls | None = None
    close_confirm: CloseConfirm | None = None

    @property
    def any_editable(self) -> bool:
        return any(c.field is not None for c in self.controls)


def _shown(ticket: Ticket) -> dict[str, str]:
    return {
        "status": ticket.status.name,
        "priority": ticket.priority.name,
        "assignee": ticket.assignee.name if ticket.assignee is not None else _("Unassigned"),
        "team": ticket.team.name if ticket.team is not None else _("No team"),
        "department": ticket.department.name,
        "topic": ticket.topic.name if ticket.topic is not None else _("No help topic"),
    }


def build(
    user: User,
    ticket: Ticket,
    *,
    able: dict[str, Any] | None = None,
    lists: TicketChoices | None = None,
    data: QueryDict | None = None,
    errors: ErrorDict | None = None,
    problems: list[str] | None = None,
) -> Panel:
    """The panel for `ticket`: fresh, or (with `data` and `errors`) as the agent sent it, so a
    refused change keeps what was chosen."""
    able = able if able is not None else abilities(user, ticket)
    lists = lists if lists is not None else choices(ticket, able)
    if data is not None:
        form = PropertiesForm(data, prefix="props", choices=lists)
        # Django's own store of a bound form's errors: set, so the form shows what was refused
        # without validating again (and without raising for a value no longer offered).
        form._errors = errors if errors is not None else ErrorDict()  # type: ignore[attr-defined]
    else:
        initial = {
            "status": ticket.status_id,
            "priority": ticket.priority_id,
            "assignee": ticket.assignee_id or "",
            "team": ticket.team_id or "",
            "department": ticket.department_id,
            "topic": ticket.topic_id or "",
        }
        form = PropertiesForm(prefix="props", choices=lists, initial=initial)
    allowed = editable(able, ticket, len(lists.statuses))
    shown = _shown(ticket)
    controls = []
    for name in PROPERTY_NAMES:
        bound = None
        if allowed[name]:
            widget = form.fields[name].widget
            widget.attrs.update(
                {
                    "hx-post": reverse("staff:ticket_property", args=[ticket.number, name]),
                    "hx-trigger": "change delay:400ms",
                    "data-shortcut": SHORTCUTS[name],
                }
            )
            bound = form[name]
        controls.append(Control(name, str(form.fields[name].label), SHORTCUTS[name], bound, shown[name]))
    claim = ClaimForm(prefix="claim", choices=lists) if able["claim"] else None
    release = ReleaseForm(prefix="release", choices=lists) if able["release"] else None
    return Panel(ticket, form, controls, claim, release, list(problems or []), sla_controls(user, ticket))


def notice(user: User, ticket: Ticket, able: dict[str, Any], panel: Panel) -> str:
    """policy.controls_notice for what this page shows: why everyday controls are missing."""
    editable_now = {c.name for c in panel.controls if c.field is not None}
    shown = {
        Action.REPLY: able["reply"],
        Action.NOTE: able["note"],
        Action.ASSIGN: "assignee" in editable_now,
        Action.TRANSFER: "department" in editable_now,
        Action.PRIORITY: "priority" in editable_now,
        Action.STATUS: "status" in editable_now,
    }
    return policy.controls_notice(user, ticket, {str(action) for action, on in shown.items() if on})
