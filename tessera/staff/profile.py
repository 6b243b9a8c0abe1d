"""The agent's own profile: the name on their replies, their time zone, signature and availability."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from tessera.accounts import services as account_services
from tessera.accounts.models import Agent

from .access import agent_required


def _zone_choices() -> list[tuple[str, str]]:
    return [("", gettext_lazy("Desk default"))] + [(z, z) for z in sorted(zoneinfo.available_timezones())]


class ProfileForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=150)
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        required=False,
        help_text=gettext_lazy("Times in the workspace and in your emails are shown in this zone."),
    )
    signature = forms.CharField(
        label=gettext_lazy("Signature"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Added under your replies when you tick “Add my signature”."),
    )
    is_available = forms.BooleanField(label=gettext_lazy("Available for assignment"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = _zone_choices()


@require_http_methods(["GET", "POST"])
@agent_required
def profile(request: HttpRequest, agent: Agent) -> HttpResponse:
    initial = {
        "name": agent.user.name,
        "time_zone": agent.user.time_zone,
        "signature": agent.signature,
        "is_available": agent.is_available,
    }
    if request.method != "POST":
        return render(request, "staff/profile.html", {"form": ProfileForm(initial=initial)})
    form = ProfileForm(request.POST, initial=initial)
    if form.is_valid():
        try:
            account_services.update_agent_profile(request.user, agent, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("staff:profile")
    return render(request, "staff/profile.html", {"form": form}, status=400)
