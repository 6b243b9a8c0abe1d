"""Lockouts for guessing: sign-in failures, password-reset mails and ticket status lookups.

Each attempt is counted twice, once against the email address typed and once against the client
address, in a fixed window (settings.THROTTLES). Reaching either limit locks that key out until
the lockout ends or an administrator lifts it (admin "Lockouts", or `manage.py lockouts`).

- Per email address, so a botnet cannot guess one agent's password from many addresses.
- Per client address, so one client cannot spray guesses across many accounts.
- Keyed by what was typed, whether or not an account exists, so a lockout never reveals that an
  address has an account.
- A successful sign-in clears the account's count but not the address's: one valid account must
  not let a client reset its budget for guessing at the others.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Q
from django.forms import BaseForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import ngettext

from tessera import ratelimit

from .models import Throttle, User
from .signals import locked_out, lockout_lifted

Scope = Throttle.Scope
Kind = Throttle.Kind


@dataclass(frozen=True)
class Lock:
    """An active lockout; only the time it ends is shown, never which key tripped it."""

    until: datetime

    @property
    def minutes_left(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds() / 60))

    def message(self) -> str:
        return ngettext(
            "Too many attempts. For your security this is paused; try again in %(minutes)d minute.",
            "Too many attempts. For your security this is paused; try again in %(minutes)d minutes.",
            self.minutes_left,
        ) % {"minutes": self.minutes_left}


def normalize_account(value: str | None) -> str:
    return (value or "").strip().lower()[:254]


def client_address(request: HttpRequest) -> str:
    """The client's IP address, as every limit sees it (tessera.ratelimit.client_ip)."""
    return ratelimit.client_ip(request)[:254] or "unknown"


def _limits(scope: str) -> dict[str, int]:
    return settings.THROTTLES[scope]


def active_lock(scope: str, *, account: str, address: str) -> Lock | None:
    """The lockout that refuses this attempt now, if the account or the address has one."""
    until = (
        Throttle.objects.filter(scope=scope, locked_until__gt=timezone.now())
        .filter(Q(kind=Kind.ACCOUNT, key=normalize_account(account)) | Q(kind=Kind.ADDRESS, key=address))
        .order_by("-locked_until")
        .values_list("locked_until", flat=True)
        .first()
    )
    return Lock(until) if until else None


def count(request: HttpRequest | None, scope: str, *, account: str, address: str) -> None:
    """Count one attempt against the account and the address; lock whichever reaches its limit."""
    limits = _limits(scope)
    for kind, key in ((Kind.ACCOUNT, normalize_account(account)), (Kind.ADDRESS, address)):
        if key and limits[kind] > 0:
            _bump(request, scope, kind, key, limits)


def _bump(request: HttpRequest | None, scope: str, kind: str, key: str, limits: dict[str, int]) -> None:
    now = timezone.now()
    with transaction.atomic():
        row, _created = Throttle.objects.select_for_update().get_or_create(
            scope=scope, kind=kind, key=key, defaults={"hits": 0, "window_started": now}
        )
        if row.window_started <= now - timedelta(minutes=limits["window_minutes"]):
            row.hits, row.window_started = 0, now
        row.hits += 1
        newly_locked = row.hits >= limits[kind] and not row.is_locked
        if newly_locked:
            row.locked_until = now + timedelta(minutes=limits["lockout_minutes"])
        row.save()
    if newly_locked:
        locked_out.send(Throttle, request=request, scope=scope, kind=kind, key=key, until=row.locked_until)


def allow(request: HttpRequest, scope: str, *, account: str) -> Lock | None:
    """For forms that act on every submission (reset mails, status lookups): refuse while locked,
    otherwise count this one. Returns the lock that refuses it, or None to go ahead."""
    address = client_address(request)
    lock = active_lock(scope, account=account, address=address)
    if lock is None:
        count(request, scope, account=account, address=address)
    return lock


def refuse_form(request: HttpRequest, scope: str, form: BaseForm, *, account: str) -> bool:
    """allow() for a validated form: when refused, say why on the form (as typed) and return True."""
    lock = allow(request, scope, account=account)
    if lock is not None:
        form.add_error(None, lock.message())
    return lock is not None


def signed_in(account: str) -> None:
    """A correct password ends the account's run of failures (the address keeps its count)."""
    Throttle.objects.filter(scope=Scope.SIGN_IN, kind=Kind.ACCOUNT, key=normalize_account(account)).delete()


def lift(rows: Iterable[Throttle], *, actor: User | AnonymousUser | None = None) -> int:
    """Lift lockouts (a Throttle queryset) and forget their counts. Returns how many were locked."""
    rows = list(rows)
    lifted = [(r.scope, r.kind, r.key) for r in rows if r.is_locked]
    Throttle.objects.filter(pk__in=[r.pk for r in rows]).delete()
    if lifted:
        lockout_lifted.send(Throttle, actor=actor, lifted=lifted)
    return len(lifted)


def prune() -> int:
    """Forget counts whose window and lockout are both over (they no longer refuse anything)."""
    now = timezone.now()
    longest = max(limits["window_minutes"] for limits in settings.THROTTLES.values())
    stale = Throttle.objects.filter(window_started__lt=now - timedelta(minutes=longest)).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    )
    return stale.delete()[0]
