"""The task pages' forms. Selects are filled from lists the page read once (tickets.selectors),
so a form costs no query of its own; every change form carries the version the agent saw."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tessera.accounts.models import Agent, Department, Team
from tessera.staff.forms import ObjectChoiceField

DUE_FORMAT = "%Y-%m-%dT%H:%M"


def _due_field() -> forms.DateTimeField:
    # The viewer's zone is active (accounts.middleware): typed times are read in it.
    return forms.DateTimeField(
        label=_("Due (your time)"),
        required=False,
        input_formats=[DUE_FORMAT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DUE_FORMAT),
        error_messages={"invalid": _("Enter a date and time, such as 2026-03-01 14:30.")},
    )


def _title_field() -> forms.CharField:
    return forms.CharField(
        label=_("Title"),
        max_length=255,
        error_messages={"required": _("Give the task a title.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def _description_field() -> forms.CharField:
    return forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Optional. Markdown is allowed."),
    )


class Lists:
    """What the selects offer, read once per page."""

    def __init__(self, agents: Sequence[Agent], teams: Sequence[Team], departments: Sequence[Department]) -> None:
        self.agents, self.teams, self.departments = list(agents), list(teams), list(departments)


class TaskForm(forms.Form):
    """A new task: on a ticket (its department by default) or on its own."""

    title = _title_field()
    description = _description_field()

    def __init__(self, *args: Any, lists: Lists, standalone: bool, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["department"] = ObjectChoiceField(
            label=_("Department"),
            objects=lists.departments,
            empty_label=None if standalone else _("The ticket's department"),
            required=standalone,
            error_messages={"required": _("Choose the department the task belongs to.")},
        )
        self.fields["assignee"] = ObjectChoiceField(
            label=_("Assign to"), objects=lists.agents, empty_label=_("Nobody yet"), required=False
        )
        self.fields["team"] = ObjectChoiceField(
            label=_("Team"), objects=lists.teams, empty_label=_("No team"), required=False
        )
        self.fields["due_at"] = _due_field()


class VersionedForm(forms.Form):
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": _("The form was incomplete. Reload the task and try again."),
            "invalid": _("The form was incomplete. Reload the task and try again."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class NoteForm(VersionedForm):
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write a note first.")},
    )


class EditForm(VersionedForm):
    title = _title_field()
    description = _description_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["due_at"] = _due_field()


class AssignForm(VersionedForm):
    def __init__(self, *args: Any, lists: Lists, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"] = ObjectChoiceField(
            label=_("Agent"), objects=lists.agents, empty_label=_("Nobody"), required=False
        )
        self.fields["team"] = ObjectChoiceField(
            label=_("Team"), objects=lists.teams, empty_label=_("No team"), required=False
        )


class TransferForm(VersionedForm):
    def __init__(self, *args: Any, lists: Lists, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"] = ObjectChoiceField(
            label=_("Department"),
            objects=lists.departments,
            error_messages={"required": _("Choose a department.")},
        )


class StateForm(VersionedForm):
    """Close or reopen: only the version."""
