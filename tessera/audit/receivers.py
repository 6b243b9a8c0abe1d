"""Signal receivers: signing in and out, failed attempts and lockouts reach the audit log
(and the list of signed-in sessions) whichever door was used — portal, workspace or admin."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from . import services, sessions
from .models import Action

MAX_USERNAME = 254


def _door(request: HttpRequest | None) -> str:
    return (getattr(request, "path", "") or "")[:200]


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def record_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    services.record(Action.SIGN_IN, actor=user, obj=user, request=request, detail=_door(request))
    if request is not None:
        sessions.start(request, user)


@receiver(user_logged_out, dispatch_uid="audit_sign_out")
def record_sign_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    reason = getattr(request, "_audit_sign_out_reason", None)
    services.record(reason or Action.SIGN_OUT, actor=user, obj=user, request=request, detail=_door(request))
    if request is not None:
        sessions.forget(request)


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def record_failed_sign_in(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs):
    """Only the name that was tried is kept: never the password (Django has already masked
    it in `credentials`, and it is not read here at all)."""
    field = get_user_model().USERNAME_FIELD
    username = str(credentials.get("username") or credentials.get(field) or "")[:MAX_USERNAME]
    services.record(
        Action.SIGN_IN_FAILED,
        object_type=get_user_model()._meta.label_lower,
        object_repr=username,
        request=request,
        detail=_door(request),
    )


def record_lockout(sender: Any, request: HttpRequest | None, username: str | None, ip_address: str | None, **kwargs):
    """For django-axes' `user_locked_out` signal (connected where axes is installed): an
    account or address was locked out after too many failed sign-ins."""
    services.record(
        Action.LOCKOUT,
        object_type=get_user_model()._meta.label_lower,
        object_repr=str(username or "")[:MAX_USERNAME],
        request=request,
        ip_address=ip_address,
        detail=_door(request),
    )
