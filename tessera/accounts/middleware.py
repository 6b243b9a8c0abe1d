import functools
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from . import twofactor
from .zones import zone_of


class ViewerTimezoneMiddleware:
    """Show times in the viewer's own time zone (stored in UTC, always)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = zone_of(request.user)
        timezone.activate(zone) if zone is not None else timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            # The zone is the request's: a thread that serves (or a test that makes) the next
            # request, or runs a task, must not inherit this viewer's zone.
            timezone.deactivate()


@functools.cache
def _open_paths() -> frozenset[str]:
    """Signing in and out stays open behind the gate. Reversed once per process, not per request."""
    return frozenset(reverse(name) for name in ("staff:login", "staff:logout", "admin:login", "admin:logout"))


class TwoFactorMiddleware:
    """The gate to the workspace and the admin: a signed-in person who has a second factor must
    have used it in this session, and one the policy covers must have one. Everything else
    there (apart from signing in and out) redirects to the page that asks for the code or sets
    the device up. The portal stays open: it shows only what the person could see as a customer.

    Installed after django_otp's OTPMiddleware, which tells whether the session is verified.
    """

    GATED = ("/staff/", "/admin/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        redirect_to = self._detour(request)
        if redirect_to is not None:
            return redirect_to
        return self.get_response(request)

    def _detour(self, request: HttpRequest) -> HttpResponse | None:
        path = request.path_info
        if not path.startswith(self.GATED) or not request.user.is_authenticated:
            return None
        if path in _open_paths():
            return None
        state = twofactor.session_state(request)
        if state == twofactor.HAS_DEVICE and not request.user.is_verified():
            return redirect_to_login(request.get_full_path(), reverse("accounts:two_factor_verify"))
        if state == twofactor.NO_DEVICE and twofactor.is_required(request.user):
            return redirect_to_login(request.get_full_path(), reverse("accounts:two_factor"))
        return None
