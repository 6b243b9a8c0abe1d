"""The management page's form: it only parses. What may be shared where, and whether the
variables exist, is checked by canned.services (and shown next to the fields)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from tessera.accounts.models import Department
from tessera.upload_fields import MultipleFileField

from .models import CannedAttachment


class CannedResponseForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        help_text=_("What agents type to find it in the reply box."),
        error_messages={"required": _("Give the response a title.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Written like a reply: plain text or Markdown. Variables are written like %(example)s and are "
            "filled in for the ticket when the response is inserted; the list is below."
        )
        % {"example": "%{ticket.number}"},
        error_messages={"required": _("Write the response's text.")},
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("Shared with"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick nothing to share it with every department."),
    )
    is_active = forms.BooleanField(
        label=_("Offer it in the reply box"), required=False, initial=True, help_text=_("Untick to retire it.")
    )
    attachments = MultipleFileField(label=_("Add files"), help_text=_("Sent with every reply it is inserted into."))
    remove_files = forms.ModelMultipleChoiceField(
        label=_("Remove files"),
        queryset=CannedAttachment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, departments: Any, files: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["departments"]).queryset = departments
        if files is None:
            del self.fields["remove_files"]
        else:
            cast(forms.ModelMultipleChoiceField, self.fields["remove_files"]).queryset = files
