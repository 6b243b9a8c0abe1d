"""Counting sign-in failures for the lockouts, from Django's own sign-in signals."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from . import throttle, twofactor
from .models import User


@receiver(user_login_failed, dispatch_uid="tessera-throttle-failed")
def count_failed_sign_in(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: object
) -> None:
    # credentials: what was passed to authenticate(), secrets masked; values of any type.
    if request is None or getattr(request, "tessera_signin_locked", False):
        return
    account = credentials.get("username") or credentials.get("email") or ""
    throttle.count(request, throttle.Scope.SIGN_IN, account=account, address=throttle.client_address(request))


@receiver(user_logged_in, dispatch_uid="tessera-throttle-signed-in")
def clear_account_failures(sender: object, request: HttpRequest | None, user: User, **kwargs: object) -> None:
    throttle.signed_in(user.get_username())


@receiver(user_logged_in, dispatch_uid="tessera-two-factor-remember")
def remember_second_factor(sender: object, request: HttpRequest | None, user: User, **kwargs: object) -> None:
    """Whether the workspace must ask for a second factor is settled once, at sign-in."""
    if request is not None and hasattr(request, "session"):
        twofactor.remember(request, user)
