"""Passkeys (WebAuthn) as a second factor, through django-otp-webauthn.

The relying party is the desk's public address (settings.TESSERA["BASE_URL"]), read per
request: browsers only allow passkeys on https or on localhost, so on any other address the
pages say passkeys are unavailable instead of offering a button that cannot work.
Passwordless sign-in is off (OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN): a passkey is the second
step after the password, so the lockouts and the sign-in signals keep seeing every sign-in.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django_otp_webauthn import exceptions, views
from django_otp_webauthn.helpers import WebAuthnHelper

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import twofactor

# The `type: ignore[misc]` on the classes below: django-otp-webauthn ships no type hints, so mypy
# sees its classes as Any and strict mode refuses subclassing Any.


def _base() -> tuple[str, str]:
    """(origin, host) of the desk's public address."""
    parts = urlsplit(settings.TESSERA["BASE_URL"])
    return f"{parts.scheme}://{parts.netloc}", (parts.hostname or "")


def available() -> bool:
    """Browsers offer WebAuthn only in a secure context and for a domain name, not an IP address."""
    origin, host = _base()
    return origin.startswith("https://") or host == "localhost"


def relying_party_id(request: HttpRequest) -> str:
    return _base()[1]


class DeskWebAuthnHelper(WebAuthnHelper):  # type: ignore[misc]  # django-otp-webauthn is untyped
    """The allowed origin is the desk's public address, whatever it is at the moment."""

    def get_allowed_origins(self) -> list[str]:
        return [_base()[0]] if available() else []


class NotForThisAccount(exceptions.OTPWebAuthnApiError):  # type: ignore[misc]  # django-otp-webauthn is untyped
    status_code = 403
    default_code = "not_allowed"
    default_detail = _("Passkeys are for agents and administrators.")


class PasskeysUnavailable(exceptions.OTPWebAuthnApiError):  # type: ignore[misc]  # django-otp-webauthn is untyped
    status_code = 403
    default_code = "unavailable"
    default_detail = _("Passkeys need the help desk to be served over HTTPS.")


class _Checks(views.BaseWebAuthnView):  # type: ignore[misc]  # django-otp-webauthn is untyped
    """Mixed in before each WebAuthn view; based on their common base so that super() is typed."""

    def initial(self, request: HttpRequest, *args: object, **kwargs: object) -> None:
        if not available():
            raise PasskeysUnavailable()
        if request.user.is_authenticated and not twofactor.may_use(request.user):
            raise NotForThisAccount()
        super().initial(request, *args, **kwargs)


class BeginRegistration(_Checks, views.BeginCredentialRegistrationView):  # type: ignore[misc]  # django-otp-webauthn is untyped
    pass


class CompleteRegistration(_Checks, views.CompleteCredentialRegistrationView):  # type: ignore[misc]  # django-otp-webauthn is untyped
    def post(self, *args: object, **kwargs: object) -> HttpResponse:
        response: HttpResponse = super().post(*args, **kwargs)
        if response.status_code == 200:
            twofactor.remember(self.request, self.request.user)
            if not twofactor.recovery_codes_left(self.request.user):
                # Shown once on the recovery-codes page, where passkeys.js goes next.
                codes = twofactor.new_recovery_codes(self.request.user)
                self.request.session[twofactor.NEW_CODES_SESSION_KEY] = codes
        return response


class BeginAuthentication(_Checks, views.BeginCredentialAuthenticationView):  # type: ignore[misc]  # django-otp-webauthn is untyped
    pass


class CompleteAuthentication(_Checks, views.CompleteCredentialAuthenticationView):  # type: ignore[misc]  # django-otp-webauthn is untyped
    def get_success_url(self) -> str:
        asked: str = self.get_redirect_url()
        if asked:
            return asked
        return reverse("staff:dashboard") if self.request.user.is_agent else reverse("admin:index")
