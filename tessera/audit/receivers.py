"""Signal receivers: signing in and out, failed attempts and lockouts reach the audit log
(and the list of signed-in sessions) whichever door was used — portal, workspace or admin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from tessera.accounts.signals import locked_out, lockout_lifted

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
def record_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
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


@receiver(locked_out, dispatch_uid="audit_lockout")
def record_lockout(
    sender: Any, request: HttpRequest | None, scope: str, kind: str, key: str, until: datetime, **kwargs: Any
) -> None:
    """An account or a client address was locked out after too many failed tries."""
    by_address = kind == "address"
    services.record(
        Action.LOCKOUT,
        object_type=get_user_model()._meta.label_lower,
        object_repr="" if by_address else key[:MAX_USERNAME],
        request=request,
        ip_address=key if by_address else None,
        detail=f"{scope}: {kind} {key[:MAX_USERNAME]} until {until.isoformat()}",
    )


@receiver(lockout_lifted, dispatch_uid="audit_lockout_lifted")
def record_lockout_lifted(sender: Any, actor: Any, lifted: list[tuple[str, str, str]], **kwargs: Any) -> None:
    for scope, kind, key in lifted:
        services.record(
            Action.LOCKOUT_LIFTED,
            actor=actor,
            object_type=get_user_model()._meta.label_lower,
            object_repr=key[:MAX_USERNAME],
            detail=f"{scope}: {kind} {key[:MAX_USERNAME]}",
        )
