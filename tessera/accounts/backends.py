from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from . import throttle
from .models import User


class SignInLocked(ValidationError):
    """Raised out of authenticate() while a lockout holds. A ValidationError (not Django's
    PermissionDenied, which authenticate() swallows) so every AuthenticationForm, the admin's
    included, shows the lockout message instead of "wrong password"."""


class EmailBackend(ModelBackend):
    """Sign in by email address, whatever its letter case, unless the address or the client is
    locked out (tessera.accounts.throttle). The lock is checked before the password, so a locked
    account cannot be probed and locked and unknown addresses answer alike."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        email: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        username = (email or username or "").strip().lower()
        if request is not None:
            lock = throttle.active_lock(
                throttle.Scope.SIGN_IN, account=username, address=throttle.client_address(request)
            )
            if lock is not None:
                # Still a failed sign-in for whoever records them; not counted again.
                request.tessera_signin_locked = True  # type: ignore[attr-defined]
                user_login_failed.send(__name__, credentials={"username": username}, request=request)
                raise SignInLocked(lock.message(), code="locked")
        return super().authenticate(request, username=username, password=password)
