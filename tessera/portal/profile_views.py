"""An end user's own profile on the Help Center: name, language, time zone, and password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tessera.accounts import portal_profile
from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.tickets import policy

from .forms import ChangePasswordForm, ProfileForm, attach_service_errors


def _initial(request: AuthenticatedHttpRequest) -> dict[str, str]:
    user = request.user
    return {"name": user.name, "language": user.language, "time_zone": user.time_zone}


def _page(
    request: AuthenticatedHttpRequest, profile_form: Form, password_form: Form, *, status: int = 200
) -> HttpResponse:
    context = {"form": profile_form, "password_form": password_form}
    return render(request, "portal/profile.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    if policy.is_desk_staff(request.user):
        # Staff keep their profile in the workspace, where their replies are signed.
        return redirect("staff:profile")
    if request.method != "POST":
        return _page(request, ProfileForm(initial=_initial(request)), ChangePasswordForm())
    if request.POST.get("action") == "password":
        return _change_password(request)
    form = ProfileForm(request.POST, initial=_initial(request))
    if form.is_valid():
        try:
            portal_profile.update_profile(request.user, request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            attach_service_errors(form, exc if isinstance(exc, ValidationError) else ValidationError(str(exc)))
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("portal:profile")
    return _page(request, form, ChangePasswordForm(), status=400)


def _change_password(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.POST)
    if form.is_valid():
        try:
            user = portal_profile.change_password(
                request.user,
                request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            update_session_auth_hash(request, user)  # this browser stays signed in; others are signed out
            messages.success(request, _("Your password is changed."))
            return redirect("portal:profile")
    return _page(request, ProfileForm(initial=_initial(request)), form, status=400)
