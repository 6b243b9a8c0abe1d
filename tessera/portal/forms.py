"""Portal forms: they parse and label input; the services decide what is acceptable.

Fields stay lenient where a service has the rule (message length, subject markup,
attachment types and sizes), so one rule lives in one place and every adapter
gives the same answer.
"""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from tessera.accounts.models import User
from tessera.i18n.languages import chosen_language
from tessera.single_line import SingleLineField, validate_no_encoded_word
from tessera.staff.forms import _zone_choices  # the workspace's profile offers the same zones
from tessera.upload_fields import MultipleFileField

from . import selectors
from .spam import SpamCheckMixin


def attachments_help() -> str:
    """Said up front, so nobody uploads a 40 MB video to learn the limit from an error."""
    limits = settings.TESSERA
    return _("Optional. Up to %(n)d files, %(size)s each. Programs and scripts (such as .exe) are not accepted.") % {
        "n": limits["MAX_ATTACHMENTS"],
        "size": filesizeformat(limits["MAX_ATTACHMENT_BYTES"]),
    }


MARKDOWN_HELP = _("You can use Markdown: **bold**, *italic*, lists and links.")


def attach_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's errors next to the fields they name; anything else goes on top of the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class OpenTicketForm(SpamCheckMixin):
    # Subject and name reach mail headers: SingleLineField keeps them one readable line with no
    # encoded word (tessera.single_line); the address may not hide one either.
    name = SingleLineField(
        label=_("Your name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Tell us your name.")},
    )
    email = forms.EmailField(
        label=_("Email address"),
        help_text=_("We send the link to follow your ticket here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        validators=[validate_no_encoded_word],
        error_messages={"required": _("Give your email address so we can answer you.")},
    )
    topic = forms.ModelChoiceField(
        label=_("Help topic"),
        queryset=selectors.public_topics(),
        empty_label=_("Choose a topic…"),
        error_messages={
            "required": _("Choose a help topic."),
            "invalid_choice": _("Choose one of the help topics listed."),
        },
    )
    subject = SingleLineField(label=_("Subject"), error_messages={"required": _("Give the ticket a subject.")})
    message = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=MARKDOWN_HELP,
        error_messages={"required": _("Write a message first.")},
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args: Any, signed_in: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if signed_in:
            # The account already says who they are; asking again invites typos.
            del self.fields["name"]
            del self.fields["email"]
        self.fields["subject"].widget.attrs["maxlength"] = settings.TESSERA["MAX_SUBJECT_LENGTH"]
        self.fields["attachments"].help_text = attachments_help()
        # Choosing a topic reveals the fields it asks (customfields.views.topic_fields).
        self.fields["topic"].widget.attrs.update(
            {
                "hx-get": reverse("customfields:topic_fields") + "?audience=user",
                "hx-target": "#topic-fields",
                "hx-trigger": "change",
                "aria-controls": "topic-fields",
            }
        )


class ReplyForm(forms.Form):
    message = forms.CharField(
        label=_("Your reply"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=MARKDOWN_HELP,
        error_messages={"required": _("Write a message first.")},
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachments_help()


class StatusCheckForm(SpamCheckMixin):
    email = forms.EmailField(
        label=_("Email address"),
        help_text=_("The address you used to open the ticket, or the one copied on it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    number = forms.CharField(
        label=_("Ticket number (optional)"),
        max_length=24,
        required=False,
        help_text=_("Leave it empty to get links to all your open tickets, or give one, for example 100001."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_number(self) -> int | None:
        if not self.cleaned_data["number"].strip():
            return None
        # People copy "#100001" or "Ticket 100001" from the email subject.
        digits = re.sub(r"^\s*(?:ticket\s*)?#?\s*", "", self.cleaned_data["number"], flags=re.I).strip()
        if not digits.isdecimal() or len(digits) > 18:
            raise ValidationError(_("Enter the ticket number, for example 100001."), code="invalid")
        return int(digits)


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "That email address and password do not match. If you have only opened tickets by email, "
            "set a password first."
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.label = _("Email address")
        username.widget.input_type = "email"
        username.widget.attrs["autocomplete"] = "email"


class SetOrResetPasswordForm(SpamCheckMixin, PasswordResetForm):
    """Also serves people who never had a password: a guest who opened tickets by email
    proves the address is theirs through the emailed link, and that makes the account."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Email address")

    def get_users(self, email: str) -> list[User]:
        user = selectors.end_user_by_email(email)
        return [user] if user is not None else []

    def send_mail(self, *args: Any, **kwargs: Any) -> None:
        """In the account's chosen language; without one, in the page's (the asker's browser)."""
        context = kwargs.get("context", args[2] if len(args) > 2 else {})
        chosen = chosen_language(context.get("user"))
        with translation.override(chosen or translation.get_language()):
            super().send_mail(*args, **kwargs)


# ---------------------------------------------------------------------------- sign-up and profile


class RegisterForm(SpamCheckMixin):
    name = SingleLineField(
        label=_("Your name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Tell us your name.")},
    )
    email = forms.EmailField(
        label=_("Email address"),
        help_text=_("We email you a link to confirm it is yours; there you choose your password."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        validators=[validate_no_encoded_word],
        error_messages={"required": _("Give the address you want to sign in with.")},
    )


class ChoosePasswordForm(forms.Form):
    """Both fields, compared here; how strong a password must be is the service's rule."""

    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits, and not a common password."),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        first, second = self.cleaned_data.get("new_password1"), self.cleaned_data.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two passwords differ. Type the same password twice."))
        return cleaned


class ChangePasswordForm(ChoosePasswordForm):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "new_password1", "new_password2"]


def _language_choices() -> list[tuple[str, str]]:
    return [("", str(_("As my browser asks"))), *((code, str(name)) for code, name in settings.LANGUAGES)]


class ProfileForm(forms.Form):
    name = SingleLineField(
        label=_("Your name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Tell us your name.")},
    )
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Times on the Help Center and in our emails are shown in this zone."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["language"]).choices = _language_choices()
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = _zone_choices()
