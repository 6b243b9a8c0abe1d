"""Making API keys and letting them in.

`authenticate` answers why a key is refused (`Refused.reason`), so each adapter can word it as
its clients expect: problem details under /api/v1/, osTicket's exact sentences under /api/.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera import ratelimit
from tessera.accounts.models import Agent, User
from tessera.api.models import ApiKey, Scope
from tessera.audit import services as audit
from tessera.compiled_get import CompiledGet

KEY_PREFIX = "tsk_"
# Writing last-used on every request would cost a row update per call at hundreds of calls a
# second; once a minute tells an administrator all they need.
LAST_USED_EVERY = timedelta(seconds=60)


class Reason(StrEnum):
    MISSING = "missing"
    UNKNOWN = "unknown"
    INACTIVE = "inactive"
    EXPIRED = "expired"
    ADDRESS = "address"
    AGENT_DISABLED = "agent-disabled"


@dataclass
class Refused(Exception):
    reason: Reason


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.strip().encode()).hexdigest()


def clean_networks(values: Iterable[str]) -> list[str]:
    """The allow-list as canonical CIDR strings; a bad entry is a ValidationError naming it."""
    networks: list[str] = []
    for value in values:
        value = (value or "").strip()
        if not value:
            continue
        try:
            networks.append(str(ipaddress.ip_network(value, strict=False)))
        except ValueError:
            raise ValidationError(
                {"allowed_ips": _("“%(value)s” is not an IP address or CIDR range.") % {"value": value}}
            ) from None
    return networks


def clean_scopes(values: Iterable[str]) -> list[str]:
    known = set(Scope.values)
    scopes = sorted({v.strip() for v in values if v.strip()})
    unknown = [s for s in scopes if s not in known]
    if unknown:
        raise ValidationError(
            {
                "scopes": _("Unknown scope: %(scopes)s. Known scopes: %(known)s.")
                % {"scopes": ", ".join(unknown), "known": ", ".join(Scope.values)}
            }
        )
    return scopes


def issue_key(
    *,
    name: str,
    created_by: User | None,
    agent: Agent | None = None,
    scopes: Iterable[str] = (),
    allowed_ips: Iterable[str] = (),
    expires_at: datetime | None = None,
    rate_limit: int | None = None,
) -> tuple[ApiKey, str]:
    """Make a key and return it with its secret, which is never stored and cannot be shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name.")})
    if ApiKey.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("A key named “%(name)s” already exists.") % {"name": name}})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=raw[: len(KEY_PREFIX) + 6],
        digest=digest_of(raw),
        agent=agent,
        scopes=clean_scopes(scopes),
        allowed_ips=clean_networks(allowed_ips),
        expires_at=expires_at,
        created_by=created_by,
    )
    if rate_limit is not None:
        key.rate_limit = rate_limit
    with transaction.atomic():
        key.save()
        audit.record_change(created_by, key, None, detail="API key created")
    return key, raw


def switch_off(actor: User | None, chosen: Iterable[ApiKey]) -> int:
    """Switch keys off at once (the admin's bulk action), each change audited; how many were on."""
    count = 0
    with transaction.atomic():
        for key in ApiKey.objects.select_for_update().filter(pk__in=[k.pk for k in chosen], is_active=True):
            before = audit.snapshot(key)
            key.is_active = False
            key.save(update_fields=["is_active"])
            audit.record_change(actor, key, before, detail="API key switched off")
            count += 1
    return count


def address_allowed(key: ApiKey, address: str) -> bool:
    if not key.allowed_ips:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for network in key.allowed_ips:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


# Every API request reads its key: compiled once (tessera.compiled_get), as compiling it cost
# more than running it.
_KEY_BY_DIGEST = CompiledGet(ApiKey.objects.select_related("agent__user"), "digest")


def authenticate(raw: str | None, address: str, *, now: datetime | None = None) -> ApiKey:
    """The key `raw` names, if it may be used now from `address`; else `Refused` with the reason."""
    if not raw or not raw.strip():
        raise Refused(Reason.MISSING)
    try:
        key = _KEY_BY_DIGEST.get(digest_of(raw))
    except ApiKey.DoesNotExist:
        raise Refused(Reason.UNKNOWN) from None
    now = now or timezone.now()
    if not key.is_active:
        raise Refused(Reason.INACTIVE)
    if key.expires_at is not None and key.expires_at <= now:
        raise Refused(Reason.EXPIRED)
    if not address_allowed(key, address):
        raise Refused(Reason.ADDRESS)
    if key.agent is not None and not (key.agent.is_active and key.agent.user.is_active):
        raise Refused(Reason.AGENT_DISABLED)
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY or key.last_used_ip != address:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=address)
        key.last_used_at, key.last_used_ip = now, address
    return key


def take_turn(key: ApiKey, *, now: float | None = None) -> ratelimit.Decision:
    """Count one request against the key's per-minute limit, shared through the cache."""
    return ratelimit.hit("api-key", str(key.pk), limit=key.rate_limit, window=60, now=now)
