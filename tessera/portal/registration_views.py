"""Signing up on the Help Center (when the desk's registration is public) and verifying the address.

The sign-up page gives one answer whatever the address: new, a guest's, an existing account's
(its owner is mailed a sign-in and reset link instead), or staff's (nobody is mailed). The
mailed link opens a page where the password is chosen; only then can the account sign in.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tessera.accounts import registration

from . import limits, tasks
from .forms import ChoosePasswordForm, RegisterForm, attach_service_errors
from .models import PortalSettings

log = logging.getLogger(__name__)


def _closed(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    mode = PortalSettings.load().registration
    return render(request, "portal/register_closed.html", {"mode": mode}, status=status)


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if not PortalSettings.load().public_registration:
        return _closed(request, status=200 if request.method == "GET" else 403)
    if request.user.is_authenticated:
        return redirect("portal:my_tickets")
    if request.method != "POST":
        return render(request, "portal/register.html", {"form": RegisterForm()})
    form = RegisterForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/register.html", {"form": form}, status=400)
    email = form.cleaned_data["email"].strip().lower()
    conf = settings.TESSERA
    too_many = limits.refusal(
        request,
        "register",
        email,
        per_address=conf["REGISTER_LIMIT_PER_ADDRESS"],
        per_ip=conf["REGISTER_LIMIT_PER_IP"],
    )
    if too_many:
        form.add_error(None, too_many)
        return render(request, "portal/register.html", {"form": form}, status=429)
    _mail_for(email, form.cleaned_data["name"])
    return redirect("portal:register_sent")


def _mail_for(email: str, name: str) -> None:
    outcome, user = registration.outcome_for(email)
    try:
        if outcome == registration.Outcome.VERIFY:
            tasks.send_signup_link.enqueue(email, name, translation.get_language() or "")
        elif outcome == registration.Outcome.HAS_ACCOUNT and user is not None:
            tasks.send_existing_account.enqueue(user.pk)
        else:
            log.info("Help Center sign-up for a staff or disabled address: nobody mailed")
    except Exception:
        # The page must look the same either way; the operator sees the log.
        log.exception("Could not queue the sign-up mail")


@require_http_methods(["GET"])
def register_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/register_sent.html")


@never_cache
@require_http_methods(["GET", "POST"])
def register_verify(request: HttpRequest, token: str) -> HttpResponse:
    if not PortalSettings.load().public_registration:
        return _closed(request, status=403)
    signup = registration.read_token(token)
    if signup is None:
        return render(request, "portal/register_link_invalid.html", {"spent": False}, status=404)
    if not registration.still_open(signup):
        return render(request, "portal/register_link_invalid.html", {"spent": True}, status=410)
    context: dict[str, object] = {"email": signup.email}
    if request.method != "POST":
        return render(request, "portal/register_verify.html", {**context, "form": ChoosePasswordForm()})
    form = ChoosePasswordForm(request.POST)
    if form.is_valid():
        try:
            user = registration.complete(signup, form.cleaned_data["new_password1"])
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            login(request, user)
            messages.success(request, _("Your address is confirmed and your account is ready."))
            return redirect("portal:my_tickets")
    return render(request, "portal/register_verify.html", {**context, "form": form}, status=400)
