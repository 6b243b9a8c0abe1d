"""Forms of the people directory: a person's details, an organisation's, a note, a CSV file."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from tessera.accounts import phone
from tessera.accounts.directory_import import MAX_BYTES
from tessera.accounts.directory_services import NOTE_MAX_LENGTH
from tessera.accounts.models import Agent, Organization
from tessera.single_line import SingleLineField

from . import directory_selectors
from .forms import _zone_choices


def _agent_label(agent: Agent) -> str:
    return agent.user.display_name


class DirectorySearchForm(forms.Form):
    q = forms.CharField(label=_("Find"), required=False, max_length=directory_selectors.SEARCH_MAX)
    after = forms.CharField(required=False, max_length=254)


class PersonForm(forms.Form):
    name = SingleLineField(label=_("Name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email address"), max_length=254)
    organization = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organization.objects.none(), required=False, empty_label=_("None")
    )
    organization_manager = forms.BooleanField(
        label=_("Organisation manager"),
        required=False,
        help_text=_("Sees every ticket of the organisation on the Help Center."),
    )
    phone = SingleLineField(label=_("Phone"), max_length=phone.MAX_LENGTH, required=False, validators=[phone.PHONE])
    time_zone = forms.ChoiceField(
        label=_("Time zone"), required=False, help_text=_("Times in this person's emails are shown in this zone.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Organization]", self.fields["organization"]).queryset = Organization.objects.only(
            "id", "name"
        ).order_by("name")
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = _zone_choices()

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        org = data.get("organization")
        return {
            "name": data["name"],
            "email": data["email"],
            "organization": org.pk if org is not None else None,
            "organization_manager": bool(data.get("organization_manager")),
            "time_zone": data.get("time_zone") or "",
            "phone": data.get("phone") or "",
        }


class OrganizationForm(forms.Form):
    name = SingleLineField(label=_("Name"), max_length=200)
    domains = forms.CharField(
        label=_("Email domains"),
        required=False,
        max_length=2000,
        help_text=_(
            "New people whose address is at one of these domains join the organisation. Separate them with "
            "spaces or commas, e.g. example.com example.org"
        ),
    )
    account_manager = forms.ModelChoiceField(
        label=_("Account manager"),
        queryset=directory_selectors.managers().none(),
        required=False,
        empty_label=_("None"),
        help_text=_("The agent who looks after this customer. For information only: it grants no access."),
    )
    share_tickets = forms.BooleanField(
        label=_("Share tickets among members"),
        required=False,
        help_text=_("Members may then read and answer every ticket of the organisation on the Help Center."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[Agent]", self.fields["account_manager"])
        field.queryset = directory_selectors.managers()
        field.label_from_instance = _agent_label  # type: ignore[method-assign,assignment]

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        manager = data.get("account_manager")
        return {
            "name": data["name"],
            "domains": data.get("domains") or "",
            "account_manager": manager.pk if manager is not None else None,
            "share_tickets": bool(data.get("share_tickets")),
        }


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Add a note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Seen by agents only, never by the customer."),
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "A header row naming the columns: email (required), name, organisation, time zone. UTF-8, "
            "separated by commas or semicolons, up to 1 MB and 2,000 people."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB. Split it and import the parts."))
        return cast(bytes, upload.read(MAX_BYTES + 1))
