"""Counting sign-in failures for the lockouts, from Django's own sign-in signals."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import throttle, twofactor


@receiver(user_login_failed, dispatch_uid="tessera-throttle-failed")
def count_failed_sign_in(sender, credentials: dict, request=None, **kwargs) -> None:
    if request is None or getattr(request, "tessera_signin_locked", False):
        return
    account = credentials.get("username") or credentials.get("email") or ""
    throttle.count(request, throttle.Scope.SIGN_IN, account=account, address=throttle.client_address(request))


@receiver(user_logged_in, dispatch_uid="tessera-throttle-signed-in")
def clear_account_failures(sender, request, user, **kwargs) -> None:
    throttle.signed_in(user.get_username())


@receiver(user_logged_in, dispatch_uid="tessera-two-factor-remember")
def remember_second_factor(sender, request, user, **kwargs) -> None:
    """Whether the workspace must ask for a second factor is settled once, at sign-in."""
    if request is not None and hasattr(request, "session"):
        twofactor.remember(request, user)
