"""The only writer of the audit log: every record goes through record(), so masking, limits
and the actor's address are decided in one place.

Callers outside a request (services called from commands, signals without a request) may
leave the address out; inside a request the middleware has put it in a context variable.
"""

from __future__ import annotations

import contextvars
import ipaddress
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.db import models
from django.http import HttpRequest

from tessera.accounts import throttle

# `as Action`: re-exported, since callers name record()'s actions as audit.services.Action.
from .models import Action as Action
from .models import AuditEntry

# Values of fields named like this never reach the log in clear, wherever they are nested.
SECRET_NAME = re.compile(r"passw(or)?d|passphrase|secret|token|key|digest", re.IGNORECASE)
HIDDEN = "[hidden]"
HIDDEN_CHANGED = "[hidden, changed]"

MAX_REPR = 200
MAX_DETAIL = 4000
MAX_VALUE = 2000

_request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_request_ip", default=None)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the lockouts see it (REMOTE_ADDR, or the trusted proxy's header
    named by TESSERA_CLIENT_IP_HEADER), so the log and the lockouts name the same address."""
    if request is None:
        return None
    return _valid_ip(throttle.client_address(request))


def _valid_ip(value: Any) -> str | None:
    try:
        return str(ipaddress.ip_address(str(value).strip())) if value else None
    except ValueError:
        return None


@contextmanager
def request_context(request: HttpRequest) -> Iterator[None]:
    """While a request is handled, records written anywhere below it carry its address."""
    token = _request_ip.set(client_ip(request))
    try:
        yield
    finally:
        _request_ip.reset(token)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name or ""))


def mask(value: Any, name: str = "") -> Any:
    """The value with anything stored under a secret-looking name hidden, recursively."""
    if name and is_secret_name(name):
        return value if value in (None, "", HIDDEN, HIDDEN_CHANGED) else HIDDEN
    if isinstance(value, Mapping):
        return {str(k): mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    if isinstance(value, str) and len(value) > MAX_VALUE:
        return value[:MAX_VALUE] + "…"
    return value


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The object's stored field values (foreign keys as ids, many-to-many as sorted id lists),
    read from the database for many-to-many so it says what was saved."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        value = field.value_from_object(obj)
        if isinstance(value, bytes | memoryview):
            value = f"<{len(value)} bytes>"
        elif isinstance(field, models.FileField):
            value = value.name if value else ""
        data[field.attname] = value
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            data[field.name] = sorted(getattr(obj, field.name).values_list("pk", flat=True))
    return data


def stored_snapshot(obj: models.Model) -> dict[str, Any] | None:
    """The snapshot of the row as it is in the database now (before a pending save)."""
    if obj.pk is None:
        return None
    stored = type(obj)._default_manager.filter(pk=obj.pk).first()
    return snapshot(stored) if stored is not None else None


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, before and after. A secret field that changed says so
    without either value."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        if before.get(name) == after.get(name):
            continue
        if is_secret_name(name):
            old[name], new[name] = HIDDEN, HIDDEN_CHANGED
        else:
            old[name], new[name] = before.get(name), after.get(name)
    return old, new


def record(
    action: Action | str,
    *,
    actor: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    detail: str = "",
    request: HttpRequest | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    """Append one entry. Secret-looking fields are masked here, whoever called."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id not in ("", None) else obj.pk
        object_repr = object_repr or _safe_str(obj)
    ip = _valid_ip(ip_address) or client_ip(request) or _request_ip.get()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEntry.objects.create(
        action=str(action),
        actor=actor,
        actor_label=(getattr(actor, "email", "") or str(actor or ""))[:254] if actor else "",
        ip_address=ip,
        object_type=str(object_type)[:100],
        object_id=str(object_id if object_id is not None else "")[:64],
        object_repr=str(object_repr)[:MAX_REPR],
        before=mask(dict(before)) if before is not None else None,
        after=mask(dict(after)) if after is not None else None,
        detail=str(detail)[:MAX_DETAIL],
    )


def record_change(
    actor: Any, obj: models.Model, before: Mapping[str, Any] | None, *, detail: str = ""
) -> AuditEntry | None:
    """For services: record what changed on obj since `before` (a snapshot taken before the
    change), or its creation when there was no before. Nothing changed: nothing recorded."""
    after = snapshot(obj)
    if before is None:
        return record(Action.CHANGE, actor=actor, obj=obj, after=after, detail=detail or "created")
    old, new = changes(before, after)
    if not old and not new:
        return None
    return record(Action.CHANGE, actor=actor, obj=obj, before=old, after=new, detail=detail)


def _safe_str(obj: Any) -> str:
    try:
        return str(obj)
    except Exception:  # a broken __str__ must not lose the record
        return f"{type(obj).__name__} #{getattr(obj, 'pk', '?')}"
