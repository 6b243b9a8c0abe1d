"""Reply locks: who is writing a reply on a ticket right now.

A lock is advisory. It lets the workspace tell other agents "Jane Doe is replying" and ask
before they answer over her; it never stops anyone from replying (services.reply does not look
at it). That is why taking, renewing and releasing a lock write no timeline Event and bump no
ticket version: nobody asks "who did that?" about someone opening a reply box, and a ticket's
version must only move when the ticket itself changes, or every open form would go stale.

One row per ticket (TicketLock.ticket is one-to-one). A lock lasts
settings.TESSERA["LOCK_MINUTES"] from its last renewal, so a closed laptop or a lost
`pagehide` beacon never blocks a ticket for long: an expired row counts as no lock and is
simply taken over by the next agent who starts typing.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import Perm, User

from . import policy
from .models import Ticket, TicketLock

DEFAULT_LOCK_MINUTES = 3


class LockHeld(ValidationError):
    """Another agent holds a fresh lock on the ticket. `lock` says who, and until when."""

    def __init__(self, lock: TicketLock) -> None:
        self.lock = lock
        super().__init__(holder_message(lock), code="locked")


def lock_duration() -> timedelta:
    minutes = settings.TESSERA.get("LOCK_MINUTES", DEFAULT_LOCK_MINUTES)
    return timedelta(minutes=max(float(minutes), 0.05))


def holder_message(lock: TicketLock) -> str:
    return _("%(name)s is writing a reply right now.") % {"name": lock.agent.name}


# ---------------------------------------------------------------------------- reads


def current_lock(ticket: Ticket) -> TicketLock | None:
    """The fresh lock on `ticket` with its agent and user loaded, or None. Expired rows are
    not a lock: they wait to be overwritten, so nobody has to sweep them."""
    return (
        TicketLock.objects.select_related("agent__user")
        .filter(ticket_id=ticket.pk, expires_at__gt=timezone.now())
        .first()
    )


def lock_held_by_other(actor: User, ticket: Ticket) -> TicketLock | None:
    """The fresh lock on `ticket` when someone other than `actor` holds it."""
    lock = current_lock(ticket)
    agent = actor.agent_or_none if actor is not None else None
    if lock is None or (agent is not None and lock.agent_id == agent.pk):
        return None
    return lock


# ---------------------------------------------------------------------------- changes


def acquire_lock(actor: User, ticket: Ticket) -> TicketLock:
    """Take the reply lock on `ticket`, or renew it when `actor` already holds it.

    Only an agent who may reply can hold it (asked of policy on the ticket as it is now).
    When another agent holds a fresh lock this raises LockHeld naming them; an expired lock
    is replaced. The ticket row is locked for the moment it takes, so two agents starting
    to type at once cannot both believe they hold it.
    """
    agent = actor.agent_or_none if actor is not None else None
    denied = _("You cannot reply to this ticket.")
    if agent is None or not agent.is_active:
        raise PermissionDenied(denied)
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if not policy.can(actor, Perm.REPLY, locked):
            raise PermissionDenied(denied)
        now = timezone.now()
        expires = now + lock_duration()
        lock = TicketLock.objects.select_related("agent__user").filter(ticket_id=locked.pk).first()
        if lock is None:
            lock = TicketLock.objects.create(ticket=locked, agent=agent, acquired_at=now, expires_at=expires)
            lock.agent = agent
            return lock
        if lock.agent_id == agent.pk and lock.expires_at > now:
            lock.expires_at = expires
            lock.save(update_fields=["expires_at"])
            return lock
        if lock.expires_at > now:
            raise LockHeld(lock)
        # Expired: whoever held it has gone; the lock starts afresh for this agent.
        lock.agent = agent
        lock.acquired_at = now
        lock.expires_at = expires
        lock.save(update_fields=["agent", "acquired_at", "expires_at"])
        return lock


def renew_lock(actor: User, ticket: Ticket) -> TicketLock:
    """Keep `actor`'s lock alive while they type. The same rules as acquire_lock: if the lock
    expired meanwhile it is taken again, and if someone else took it over, LockHeld says who."""
    return acquire_lock(actor, ticket)


def release_lock(actor: User, ticket: Ticket) -> bool:
    """Let go of `actor`'s lock on `ticket`; True when there was one to let go of.

    Releasing a lock you do not hold changes nothing and is not an error: the browser sends
    its release beacon whenever a page with a reply in progress is left, often after the
    reply itself already released the lock, and another agent's lock is never touched.
    """
    agent = actor.agent_or_none if actor is not None else None
    if agent is None:
        return False
    deleted, _rows = TicketLock.objects.filter(ticket_id=ticket.pk, agent_id=agent.pk).delete()
    return deleted > 0
