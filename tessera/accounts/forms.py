"""Forms for the second factor: they parse the code; tessera.accounts.twofactor checks it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ConfirmAppForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=12,
        help_text=_("The six digits the app shows for Tessera now."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}),
        error_messages={"required": _("Type the code the app shows.")},
    )


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=24,
        help_text=_("From your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "size": 14, "autofocus": True}),
        error_messages={"required": _("Type the code from your app or a recovery code.")},
    )
