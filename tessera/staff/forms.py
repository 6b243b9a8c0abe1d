"""The agent workspace's forms: they only parse input. Permissions and rules live in the services.

Every action form carries the ticket's `version`, handed to the service as `expected_version`
so a change made by someone else in the meantime is caught instead of silently overwritten.
Choices come from lists loaded once per page (see TicketChoices), so neither rendering nor
validating a select costs another query.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tessera.accounts.models import Agent, Density, Department, Team, User
from tessera.i18n import languages
from tessera.single_line import validate_no_encoded_word
from tessera.tickets import policy, selectors
from tessera.tickets.models import Collaborator, HelpTopic, Priority, Status, Ticket
from tessera.upload_fields import MultipleFileField

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from tessera.tickets.selectors import AgentChoice


class StaffAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing people who are not agents with a message that says where
    they should go instead (the Help Center)."""

    username = UsernameField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "not_agent": _(
            "%(email)s is not an agent account, so it cannot use the workspace. "
            "To follow your own requests, sign in on the Help Center."
        ),
    }

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not policy.may_enter_workspace(user):
            raise ValidationError(self.error_messages["not_agent"], code="not_agent", params={"email": user.email})


# ---------------------------------------------------------------------------- choices


@dataclass(frozen=True)
class TicketChoices:
    """Everything the ticket page's selects offer, loaded once for the page."""

    statuses: Sequence[Status]  # the statuses this agent may set on this ticket
    current_status: Status
    priorities: Sequence[Priority]
    departments: Sequence[Department]
    agents: Sequence[AgentChoice]
    teams: Sequence[Team]
    collaborators: Sequence[Collaborator]
    department: Department  # the ticket's
    ticket: Ticket
    topics: Sequence[HelpTopic]
    assignable: Sequence[AgentChoice]  # who may be the assignee where the ticket is (policy.assignable_agents)


class ObjectChoiceField(forms.TypedChoiceField):
    """A select over objects already in memory; the cleaned value is the object itself."""

    def __init__(
        self,
        *,
        objects: Iterable[Model],
        choices: Sequence[Any] | None = None,
        empty_label: StrOrPromise | None = None,
        **kwargs: Any,
    ) -> None:
        objects = list(objects)
        by_pk = {str(o.pk): o for o in objects}
        if choices is None:
            choices = [(o.pk, str(o)) for o in objects]
        if empty_label is not None:
            choices = [("", empty_label), *choices]
        super().__init__(choices=choices, coerce=lambda value: by_pk[str(value)], empty_value=None, **kwargs)


# ---------------------------------------------------------------------------- action forms


class IdListField(forms.Field):
    """Hidden inputs that each carry an id; cleans to a list of distinct ints (at most 20)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        ids = []
        for item in values:
            try:
                ids.append(int(str(item)))
            except ValueError:
                raise ValidationError(
                    _("The form was incomplete. Reload the ticket and try again."), code="invalid"
                ) from None
        return list(dict.fromkeys(ids))[:20]


class TicketActionForm(forms.Form):
    """Base of every ticket action: the version the agent saw when the page loaded."""

    version = forms.IntegerField(
        label=_("Version"),
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": _("The form was incomplete. Reload the ticket and try again."),
            "invalid": _("The form was incomplete. Reload the ticket and try again."),
        },
    )

    def __init__(self, *args: Any, choices: TicketChoices, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.ticket_choices = choices
        self.setup(choices)

    def setup(self, choices: TicketChoices) -> None:
        """Subclasses fill their selects from the page's lists here."""


class ReplyForm(TicketActionForm):
    message = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("Write a message first.")},
    )
    attachments = MultipleFileField(label=_("Reply attachments"))
    signature = forms.ChoiceField(
        label=_("Signature"),
        choices=[("none", _("None")), ("agent", _("Mine")), ("department", _("The department's"))],
        initial="agent",
        required=False,
        widget=forms.RadioSelect,
    )
    # The canned responses inserted into this reply (static/js/canned.js adds one hidden input
    # each): their files go with it and their use is counted when it is sent.
    canned = IdListField(required=False)

    def clean_signature(self) -> str:
        return self.cleaned_data.get("signature") or "none"  # not sent: unsigned, as an unticked box was

    def offer_signatures(self, agent_signature: str, department: Department) -> str:
        """Offer only the signatures that exist, default to the agent's own (else the
        department's, else none), and return a note when the default had to fall back."""
        field = cast(forms.ChoiceField, self.fields["signature"])
        have = {"none": True, "agent": bool(agent_signature.strip()), "department": bool(department.signature.strip())}
        labels = {
            "none": _("None"),
            "agent": _("Mine"),
            "department": _("The department's (%(name)s)") % {"name": department.name},
        }
        field.widget.choices = [(value, label) for value, label in labels.items() if have[value]]
        if have["agent"]:
            field.initial = "agent"
            return ""
        field.initial = "department" if have["department"] else "none"
        return str(
            _("You have no signature of your own yet, so the department's is chosen. Add yours in your profile.")
            if have["department"]
            else _("You have no signature yet. Add one in your profile.")
        )

    def setup(self, choices: TicketChoices) -> None:
        keep = _("Keep current status (%(status)s)") % {"status": choices.current_status.name}
        self.fields["status"] = ObjectChoiceField(
            label=_("Status after sending"),
            objects=[s for s in choices.statuses if s.pk != choices.current_status.pk],
            empty_label=keep,
            required=False,
        )


class NoteForm(TicketActionForm):
    note = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Only agents see internal notes."),
        error_messages={"required": _("Write a note first.")},
    )
    attachments = MultipleFileField(label=_("Note attachments"))


def _agent_groups(agents: Sequence[Agent], department_name: str) -> list[tuple[str, list[tuple[int, str]]]]:
    """Agents of the ticket's department first: they are the usual choice."""
    # An agent the panel shows without offering (the current assignee) may lack the annotation.
    inside = [(a.pk, a.name) for a in agents if getattr(a, "in_department", False)]
    outside = [(a.pk, a.name) for a in agents if not getattr(a, "in_department", False)]
    groups = []
    if inside:
        groups.append((department_name, inside))
    if outside:
        groups.append((str(_("Other departments")), outside))
    return groups


class ClaimForm(TicketActionForm):
    pass


class ReleaseForm(TicketActionForm):
    pass


# The properties panel's selects, in the order the panel shows them.
PROPERTY_NAMES = ("status", "priority", "assignee", "team", "department", "topic")


class PropertiesForm(TicketActionForm):
    """The ticket page's properties panel: status, priority, assignee, team, department and help
    topic, with an optional reason. The page saves one select at a time as it changes (htmx);
    without JavaScript the whole form is sent with its Save button. Either way only the fields
    that were sent and differ from the ticket count as changes (`changes`): a select the agent
    may not use is drawn as text, so it is not sent."""

    note = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("Optional. Saved as an internal note with the next change."),
    )

    def setup(self, choices: TicketChoices) -> None:
        ticket = choices.ticket
        statuses = list(choices.statuses)
        if all(s.pk != ticket.status_id for s in statuses):
            statuses.append(choices.current_status)
        self.fields["status"] = ObjectChoiceField(label=_("Status"), objects=statuses, required=False)
        self.fields["priority"] = ObjectChoiceField(label=_("Priority"), objects=choices.priorities, required=False)
        agents: list[Agent] = list(choices.assignable)
        current = ticket.assignee
        if current is not None and all(a.pk != current.pk for a in agents):
            agents.append(current)  # shown as it is, even when no longer offered
        self.fields["assignee"] = ObjectChoiceField(
            label=_("Assignee"),
            objects=agents,
            choices=_agent_groups(agents, choices.department.name),
            empty_label=_("Unassigned"),
            required=False,
        )
        teams = list(choices.teams)
        if ticket.team is not None and all(t.pk != ticket.team_id for t in teams):
            teams.append(ticket.team)
        # A team is handed on, never taken away: "No team" is offered only while there is none.
        self.fields["team"] = ObjectChoiceField(
            label=_("Team"),
            objects=teams,
            empty_label=_("No team") if ticket.team_id is None else None,
            required=False,
        )
        self.fields["department"] = ObjectChoiceField(
            label=_("Department"), objects=choices.departments, required=False
        )
        topics = [t for t in choices.topics if t.is_active or t.pk == ticket.topic_id]
        self.fields["topic"] = ObjectChoiceField(
            label=_("Help topic"), objects=topics, empty_label=_("No help topic"), required=False
        )
        self.order_fields([*PROPERTY_NAMES, "note"])

    def sent(self, name: str) -> bool:
        return self.add_prefix(name) in self.data

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        needed = {
            "status": _("Choose a status."),
            "priority": _("Choose a priority."),
            "department": _("Choose a department."),
        }
        for name, message in needed.items():
            if self.sent(name) and data.get(name) is None and not self.has_error(name):
                self.add_error(name, message)
        ticket = self.ticket_choices.ticket
        if self.sent("team") and data.get("team") is None and ticket.team_id is not None and not self.has_error("team"):
            self.add_error(
                "team", _("A team cannot be taken off a ticket here: assign it to another team or an agent.")
            )
        return data

    def changes(self, names: Sequence[str] = PROPERTY_NAMES) -> dict[str, Any]:
        """The properties among `names` that were sent with a value other than the ticket's, each
        with its new value (an object, or None: unassigned, no help topic)."""
        ticket = self.ticket_choices.ticket
        current = {
            "status": ticket.status_id,
            "priority": ticket.priority_id,
            "assignee": ticket.assignee_id,
            "team": ticket.team_id,
            "department": ticket.department_id,
            "topic": ticket.topic_id,
        }
        out = {}
        for name in names:
            if not self.sent(name):
                continue
            value = self.cleaned_data.get(name)
            if (value.pk if value is not None else None) != current[name]:
                out[name] = value
        return out


class AddCollaboratorForm(TicketActionForm):
    email = forms.EmailField(
        label=_("Collaborator email"),
        help_text=_("They will see the ticket on the Help Center and receive public replies."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        validators=[validate_no_encoded_word],  # mail goes to this address: no header hidden in it
    )


class RemoveCollaboratorForm(TicketActionForm):
    def setup(self, choices: TicketChoices) -> None:
        self.fields["user"] = ObjectChoiceField(
            objects=[c.user for c in choices.collaborators],
            widget=forms.HiddenInput,
            error_messages={"invalid_choice": _("That person is no longer copied on this ticket.")},
        )


# ---------------------------------------------------------------------------- the bulk bar (queue pages)

# The bulk bar's actions: (form value, label, bulk service action, the value field it uses).
BULK_ACTIONS = [
    ("assign-agent", _("Assign to agent"), "assign", "agent"),
    ("assign-team", _("Assign to team"), "assign", "team"),
    ("transfer", _("Transfer to department"), "transfer", "department"),
    ("priority", _("Change priority"), "priority", "priority"),
    ("status", _("Change status"), "status", "status"),
    ("merge", _("Merge into first selected"), "merge", None),
]


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


def _value_field(label: str, pairs: Pairs, empty: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, choices=[("", empty), *pairs], coerce=int, empty_value=None, required=False
    )


class BulkForm(forms.Form):
    """The bulk bar. The checkboxes (name "tickets") sit in the queue's rows, inside the same form."""

    action = forms.ChoiceField(label=_("Bulk action"))
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, choices: BulkChoices, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "bulk")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        actions = [(value, label) for value, label, _action, _field in BULK_ACTIONS]
        cast(forms.ChoiceField, self.fields["action"]).choices = [("", gettext("Choose an action")), *actions]
        self.fields["action"].error_messages["required"] = gettext("Choose a bulk action.")
        self.fields["agent"] = _value_field(gettext("Agent to assign"), choices.agents, gettext("Choose an agent"))
        self.fields["team"] = _value_field(gettext("Team to assign"), choices.teams, gettext("Choose a team"))
        self.fields["department"] = _value_field(
            gettext("Department to transfer to"), choices.departments, gettext("Choose a department")
        )
        self.fields["priority"] = _value_field(
            gettext("New priority"), choices.priorities, gettext("Choose a priority")
        )
        self.fields["status"] = _value_field(gettext("New status"), choices.statuses, gettext("Choose a status"))
        # Closing a ticket with open tasks is refused unless they close with it (tickets.close_guards).
        self.fields["close_tasks"] = forms.BooleanField(label=gettext("Also close their open tasks"), required=False)

    def value_fields(self) -> list[tuple[forms.BoundField, str]]:
        """The value selects, each with the action that uses it (for bulk.js to show just that one)."""
        used_by = {field: value for value, _label, _action, field in BULK_ACTIONS if field}
        return [(self[name], used_by[name]) for name in ("agent", "team", "department", "priority", "status")]


# ---------------------------------------------------------------------------- merge and link (ticket page)


class TicketNumberForm(forms.Form):
    number = forms.IntegerField(
        min_value=1,
        error_messages={
            "required": _("Type a ticket number, such as 100001."),
            "invalid": _("Type a ticket number, such as 100001."),
            "min_value": _("Type a ticket number, such as 100001."),
        },
    )
    version = forms.IntegerField(required=False)


# ---------------------------------------------------------------------------- the agent's profile


def _zone_choices() -> list[tuple[str, StrOrPromise]]:
    return [("", _("Desk default"))] + [(z, z) for z in sorted(zoneinfo.available_timezones())]


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=150)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Times in the workspace and in your emails are shown in this zone."),
    )
    signature = forms.CharField(
        label=_("Signature"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Added under your replies when you choose “Mine” as the signature (the default)."),
    )
    is_available = forms.BooleanField(
        label=_("Available for assignment"),
        required=False,
        help_text=_(
            "Untick while you are away (on vacation): nobody can assign you tickets, and automatic "
            "assignment passes you over until you tick it again."
        ),
    )
    density = forms.ChoiceField(
        label=_("Queue rows"),
        choices=Density.choices,
        required=False,
        help_text=_("Compact rows show more tickets on one screen. The queue page has a quick switch too."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        help_text=_("The workspace and the mail you receive are written in this language."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = _zone_choices()
        cast(forms.ChoiceField, self.fields["language"]).choices = languages.profile_choices()

    def clean_density(self) -> str | None:
        """Left out (an older form or a script): keep the agent's current choice."""
        return self.cleaned_data.get("density") or None

    def clean_language(self) -> str | None:
        """Left out (an older form or a script): keep it. Blank is a choice: follow the browser."""
        return self.cleaned_data.get("language", "") if "language" in self.data else None
