"""Second-factor pages: set up an authenticator app, keep recovery codes, and give a code
after the password. Thin: every check and change is in tessera.accounts.twofactor."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import passkeys, throttle, twofactor
from .forms import ConfirmAppForm, VerifyForm

NEW_CODES_SESSION_KEY = twofactor.NEW_CODES_SESSION_KEY
NEXT_SESSION_KEY = "tessera.2fa.next"


def _next_url(request: HttpRequest, candidate: str | None = None) -> str:
    """Where to go once done: a local page asked for, else the workspace (or the admin)."""
    target = candidate or request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("staff:dashboard") if twofactor.signed_in_user(request).is_agent else reverse("admin:index")


def _workspace_user_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and someone who can enter the workspace or the admin."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("staff:login"))
        if not twofactor.may_use(request.user):
            context = {"has_agent_profile": request.user.agent_or_none}
            return render(request, "staff/not_agent.html", context, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _verified_if_enrolled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Changing devices needs the second factor first, when there is one: a stolen password
    must not be enough to add the thief's app or to remove the owner's."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        state = twofactor.session_state(request)
        if state == twofactor.HAS_DEVICE and not twofactor.signed_in_user(request).is_verified():
            return redirect_to_login(request.get_full_path(), reverse("accounts:two_factor_verify"))
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@require_http_methods(["GET", "POST"])
@_workspace_user_required
@_verified_if_enrolled
def two_factor(request: HttpRequest) -> HttpResponse:
    """One page to see, add and remove second factors, so the gate's detour always lands here."""
    user = twofactor.signed_in_user(request)
    if request.GET.get("next"):
        request.session[NEXT_SESSION_KEY] = _next_url(request)
    form = ConfirmAppForm()
    status = 200
    if request.method == "POST" and request.POST.get("action") == "remove":
        try:
            twofactor.remove_device(request, request.POST.get("device", ""))
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The device is removed; it no longer signs you in."))
        return redirect("accounts:two_factor")
    if request.method == "POST":
        form = ConfirmAppForm(request.POST)
        if form.is_valid():
            try:
                codes = twofactor.confirm_app(request, twofactor.pending_app(user), form.cleaned_data["code"])
            except ValidationError as exc:
                form.add_error("code", exc.message_dict["code"])
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Two-factor authentication is on: sign-in now asks for a code."))
                if codes:
                    request.session[NEW_CODES_SESSION_KEY] = codes
                    return redirect("accounts:recovery_codes")
                return redirect(request.session.pop(NEXT_SESSION_KEY, None) or reverse("accounts:two_factor"))
        status = 400
    devices = twofactor.primary_devices(user)
    adding = not devices or request.GET.get("add") == "app" or request.method == "POST"
    pending = twofactor.pending_app(user) if adding else None
    context = {
        "devices": devices,
        "pending": pending,
        "qr_svg": twofactor.qr_svg(pending) if pending else "",
        "secret": twofactor.secret_text(pending) if pending else "",
        "form": form,
        "required": twofactor.is_required(user),
        "codes_left": twofactor.recovery_codes_left(user),
        "passkeys_available": passkeys.available(),
    }
    return render(request, "accounts/two_factor.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@_workspace_user_required
@_verified_if_enrolled
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New codes are shown once, right after they are made; afterwards only how many are left."""
    user = twofactor.signed_in_user(request)
    if request.method == "POST":
        if not twofactor.has_device(user):
            messages.error(request, _("Set up an authenticator app first; recovery codes back it up."))
            return redirect("accounts:two_factor")
        request.session[NEW_CODES_SESSION_KEY] = twofactor.new_recovery_codes(user)
        return redirect("accounts:recovery_codes")
    context = {
        "codes": request.session.pop(NEW_CODES_SESSION_KEY, None),
        "codes_left": twofactor.recovery_codes_left(user),
        "next": request.session.pop(NEXT_SESSION_KEY, None) or reverse("accounts:two_factor"),
    }
    return render(request, "accounts/recovery_codes.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("staff:login"))
    if user.is_verified() or twofactor.remember(request, user) == twofactor.NO_DEVICE:
        return redirect(_next_url(request))
    if request.method != "POST":
        return render(request, "accounts/two_factor_verify.html", _verify_context(request, VerifyForm()))
    form = VerifyForm(request.POST)
    status = 400
    if form.is_valid():
        lock = throttle.active_lock(
            throttle.Scope.SIGN_IN, account=user.email, address=throttle.client_address(request)
        )
        if lock is not None:
            form.add_error(None, lock.message())
            status = 429
        elif twofactor.verify(request, form.cleaned_data["code"]) is not None:
            return redirect(_next_url(request))
        else:
            # A wrong second factor is a failed sign-in: counted towards the lockout, recorded by the audit log.
            user_login_failed.send(__name__, credentials={"username": user.email}, request=request)
            form.add_error("code", _("That code is not right, or was already used. Wait for the next one and retry."))
    return render(request, "accounts/two_factor_verify.html", _verify_context(request, form), status=status)


def _verify_context(request: HttpRequest, form: VerifyForm) -> dict[str, object]:
    has_passkey = passkeys.available() and twofactor.has_passkey(twofactor.signed_in_user(request))
    return {"form": form, "next": _next_url(request), "has_passkey": has_passkey}
