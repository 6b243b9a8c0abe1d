"""The workspace's "New ticket" form: it parses and offers choices; the service decides.

Every select is filled from lists the view loads once (NewTicketChoices), so neither drawing
nor validating the form costs a query per option. The requester is chosen in the people lookup
(a combobox that fills the hidden `requester` id), or typed in as a new person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tessera.accounts import phone
from tessera.accounts.models import Agent, Department, Team, User
from tessera.single_line import SingleLineField, validate_no_encoded_word
from tessera.tickets.models import HelpTopic, Priority
from tessera.tickets.services import AGENT_SOURCES
from tessera.upload_fields import MultipleFileField

from .forms import ObjectChoiceField

MAX_COLLABORATORS = 20


@dataclass(frozen=True)
class NewTicketChoices:
    """What the form's selects offer, loaded once for the page."""

    topics: Sequence[HelpTopic]
    departments: Sequence[Department]  # where this agent may open tickets
    priorities: Sequence[Priority]
    agents: Sequence[Agent]  # who may be made the assignee in one of those departments
    teams: Sequence[Team]
    may_prioritise: bool
    may_assign: bool
    may_note: bool
    may_copy: bool


def _addresses(text: str) -> list[str]:
    return [part for part in text.replace(";", ",").replace("\n", ",").replace(" ", ",").split(",") if part]


class NewTicketForm(forms.Form):
    requester = forms.IntegerField(
        label=_("Requester"),
        required=False,
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "invalid": _("Choose the person from the list."),
            "min_value": _("Choose the person from the list."),
        },
    )
    requester_search = forms.CharField(
        label=_("Requester"),
        required=False,
        max_length=200,
        help_text=_("Type part of a name, email address or organisation, then choose the person with the arrow keys."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    requester_email = forms.EmailField(
        label=_("Email address"),
        required=False,
        validators=[validate_no_encoded_word],
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    requester_name = SingleLineField(label=_("Name"), required=False, max_length=150)
    requester_phone = SingleLineField(
        label=_("Phone"), required=False, max_length=phone.MAX_LENGTH, validators=[phone.PHONE]
    )
    source = forms.ChoiceField(label=_("Reached us by"), choices=[(s.value, s.label) for s in AGENT_SOURCES])
    subject = SingleLineField(label=_("Subject"), error_messages={"required": _("Give the ticket a subject.")})
    message = forms.CharField(
        label=_("What they asked"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("The requester's message, as the first entry of the ticket. You can use Markdown."),
        error_messages={"required": _("Write down what they asked.")},
    )
    attachments = MultipleFileField(label=_("Attachments"))
    internal_note = forms.CharField(
        label=_("Internal note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional. Only agents see it."),
    )
    collaborators = forms.CharField(
        label=_("Copy others"),
        required=False,
        max_length=4000,
        help_text=_("Optional. Email addresses, separated by commas."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    notify_user = forms.BooleanField(
        label=_("Email the requester that the ticket is open"), required=False, initial=True
    )

    def __init__(self, *args: Any, choices: NewTicketChoices, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.choices = choices
        self.fields["subject"].widget.attrs["maxlength"] = settings.TESSERA["MAX_SUBJECT_LENGTH"]
        self.fields["topic"] = ObjectChoiceField(
            label=_("Help topic"),
            objects=[t for t in choices.topics if t.is_active],
            empty_label=_("No topic"),
            required=False,
        )
        # The topic's own fields are drawn next to it (#topic-fields) when the topic changes.
        self.fields["topic"].widget.attrs.update(
            {
                "aria-controls": "topic-fields",
                "hx-get": reverse("customfields:topic_fields") + "?audience=agent",
                "hx-target": "#topic-fields",
                "hx-trigger": "change",
            }
        )
        self.fields["department"] = ObjectChoiceField(
            label=_("Department"),
            objects=choices.departments,
            empty_label=_("The topic's department"),
            required=False,
            error_messages={"invalid_choice": _("Choose one of the departments listed.")},
        )
        if choices.may_prioritise:
            self.fields["priority"] = ObjectChoiceField(
                label=_("Priority"), objects=choices.priorities, empty_label=_("The topic's default"), required=False
            )
        if choices.may_assign:
            self.fields["assignee"] = ObjectChoiceField(
                label=_("Assign to"),
                objects=choices.agents,
                choices=[(a.pk, a.name) for a in choices.agents],
                empty_label=_("Nobody yet"),
                required=False,
                error_messages={"invalid_choice": _("Choose one of the agents listed.")},
            )
            self.fields["team"] = ObjectChoiceField(
                label=_("Team"),
                objects=choices.teams,
                empty_label=_("No team"),
                required=False,
                error_messages={"invalid_choice": _("Choose one of the teams listed.")},
            )
        if not choices.may_note:
            del self.fields["internal_note"]
        if not choices.may_copy:
            del self.fields["collaborators"]
        self.fields["attachments"].help_text = gettext("Optional. Up to %(n)d files.") % {
            "n": settings.TESSERA["MAX_ATTACHMENTS"]
        }
        self.order_fields(
            [
                "requester",
                "requester_search",
                "requester_email",
                "requester_name",
                "requester_phone",
                "source",
                "topic",
                "department",
                "priority",
                "assignee",
                "team",
                "subject",
                "message",
                "attachments",
                "internal_note",
                "collaborators",
                "notify_user",
            ]
        )

    def clean_collaborators(self) -> list[str]:
        addresses = _addresses(self.cleaned_data.get("collaborators") or "")
        if len(addresses) > MAX_COLLABORATORS:
            raise ValidationError(gettext("Copy at most %(n)d people.") % {"n": MAX_COLLABORATORS})
        bad = []
        for address in addresses:
            try:
                validate_email(address)
                validate_no_encoded_word(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(gettext("These are not email addresses: %(list)s") % {"list": ", ".join(bad)})
        return addresses

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen_or_typed = data.get("requester") is not None or data.get("requester_email")
        if not chosen_or_typed and "requester" not in self.errors and "requester_email" not in self.errors:
            self.add_error(
                "requester_search",
                gettext("Choose the person from the list, or give a new person's email address below."),
            )
        return data


def requester_label(user: User) -> str:
    """How a chosen person is written back into the lookup box."""
    return f"{user.display_name} <{user.email}>" if user.name else user.email
