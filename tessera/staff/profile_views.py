"""The agent's own profile: the name on their replies, their time zone, signature, availability,
how tightly their queues are drawn, and the language the workspace and their mail are in."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tessera.accounts import services as account_services
from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent
from tessera.audit import sessions as account_sessions

from .access import agent_required
from .forms import ProfileForm


@require_http_methods(["GET", "POST"])
@agent_required
def profile(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    initial = {
        "name": agent.user.name,
        "time_zone": agent.user.time_zone,
        "signature": agent.signature,
        "is_available": agent.is_available,
        "density": agent.density,
        "language": agent.user.language,
    }
    if request.method != "POST":
        return render(
            request,
            "staff/profile.html",
            {"form": ProfileForm(initial=initial), "sessions": account_sessions.active_sessions(request)},
        )
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
    context = {"form": form, "sessions": account_sessions.active_sessions(request)}
    return render(request, "staff/profile.html", context, status=400)
