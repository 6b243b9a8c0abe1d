"""Reply locks: an agent who starts a reply holds the ticket for a few minutes, renews it while
typing and lets go on sending; others are told who is writing, never blocked for long."""

from __future__ import annotations

from datetime import timedelta

import pytest

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tessera.accounts.models import Membership, Role
from tessera.tickets import locks, services
from tessera.tickets.models import Ticket, TicketLock

from .helpers import fresh, snapshot


@pytest.fixture
def sam(desk):
    """A second Support agent, so two people can answer Ken's ticket."""
    from tessera.accounts.models import Agent, User

    user = User.objects.create_user("sam@example.com", desk.password, name="Sam Lee")
    agent = Agent.objects.create(user=user)
    Membership.objects.create(
        agent=agent, department=desk.support, role=Role.objects.get(name="Agent"), is_primary=True
    )
    return agent


def age(lock: TicketLock, minutes: float) -> None:
    """Move a lock's expiry `minutes` into the past (arrangement only)."""
    TicketLock.objects.filter(pk=lock.pk).update(expires_at=timezone.now() - timedelta(minutes=minutes))


def test_starting_a_reply_takes_the_lock_for_the_configured_minutes(desk, ken_ticket, settings):
    settings.TESSERA = {**settings.TESSERA, "LOCK_MINUTES": 5}
    before = timezone.now()
    lock = locks.acquire_lock(desk.john.user, ken_ticket)
    assert lock.agent == desk.john
    assert timedelta(minutes=5) <= lock.expires_at - before < timedelta(minutes=5, seconds=5)
    assert locks.current_lock(ken_ticket).agent == desk.john


def test_lock_lasts_three_minutes_by_default(desk, ken_ticket):
    from django.conf import settings

    assert settings.TESSERA["LOCK_MINUTES"] == 3
    lock = locks.acquire_lock(desk.john.user, ken_ticket)
    assert timedelta(minutes=2, seconds=59) < lock.expires_at - lock.acquired_at <= timedelta(minutes=3, seconds=1)


def test_typing_renews_the_same_lock_without_touching_the_ticket(desk, ken_ticket):
    first = locks.acquire_lock(desk.john.user, ken_ticket)
    age(first, -1)  # pretend it expires in one minute
    before = snapshot(ken_ticket)
    renewed = locks.renew_lock(desk.john.user, ken_ticket)
    assert renewed.pk == first.pk
    assert renewed.acquired_at == first.acquired_at
    assert renewed.expires_at > timezone.now() + timedelta(minutes=2)
    assert TicketLock.objects.count() == 1
    # Advisory: no version bump (open forms stay valid), no timeline event.
    assert snapshot(ken_ticket) == before


def test_someone_elses_fresh_lock_is_refused_naming_them(desk, ken_ticket, sam):
    locks.acquire_lock(desk.john.user, ken_ticket)
    with pytest.raises(locks.LockHeld) as refused:
        locks.acquire_lock(sam.user, ken_ticket)
    assert refused.value.messages == ["John Doe is writing a reply right now."]
    assert refused.value.lock.agent == desk.john
    assert locks.current_lock(ken_ticket).agent == desk.john


def test_an_expired_lock_is_ignored_and_taken_over(desk, ken_ticket, sam):
    stale = locks.acquire_lock(desk.john.user, ken_ticket)
    age(stale, 1)
    assert locks.current_lock(ken_ticket) is None
    assert locks.lock_held_by_other(sam.user, ken_ticket) is None
    taken = locks.acquire_lock(sam.user, ken_ticket)
    assert taken.agent == sam
    assert taken.acquired_at > stale.acquired_at
    assert TicketLock.objects.get().agent == sam


def test_my_own_expired_lock_starts_afresh(desk, ken_ticket):
    stale = locks.acquire_lock(desk.john.user, ken_ticket)
    age(stale, 1)
    again = locks.acquire_lock(desk.john.user, ken_ticket)
    assert again.acquired_at > stale.acquired_at
    assert again.expires_at > timezone.now()


def test_release_lets_go_of_my_lock_only(desk, ken_ticket, sam):
    locks.acquire_lock(desk.john.user, ken_ticket)
    assert locks.release_lock(sam.user, ken_ticket) is False  # not Sam's to release
    assert locks.current_lock(ken_ticket).agent == desk.john
    assert locks.release_lock(desk.john.user, ken_ticket) is True
    assert locks.current_lock(ken_ticket) is None
    assert locks.release_lock(desk.john.user, ken_ticket) is False  # a second beacon changes nothing
    assert locks.acquire_lock(sam.user, ken_ticket).agent == sam


def test_lock_held_by_other_is_none_for_the_holder_themself(desk, ken_ticket, sam):
    locks.acquire_lock(desk.john.user, ken_ticket)
    assert locks.lock_held_by_other(desk.john.user, ken_ticket) is None
    assert locks.lock_held_by_other(sam.user, ken_ticket).agent == desk.john


@pytest.mark.parametrize("who", ["olga", "bill", "ken"])
def test_only_agents_who_may_reply_can_hold_the_lock(desk, ken_ticket, who):
    person = getattr(desk, who)
    with pytest.raises(PermissionDenied):
        locks.acquire_lock(getattr(person, "user", person), ken_ticket)
    assert not TicketLock.objects.exists()


def test_no_lock_on_a_closed_ticket(desk, ken_ticket, set_state):
    closed = set_state(ken_ticket, "closed")
    with pytest.raises(PermissionDenied):
        locks.acquire_lock(desk.john.user, closed)


def test_replying_is_never_blocked_by_a_lock(desk, ken_ticket, sam):
    """The lock is advisory: the service itself does not look at it."""
    locks.acquire_lock(desk.john.user, ken_ticket)
    services.reply(sam.user, ken_ticket, message="I had this one already.")
    assert fresh(ken_ticket).is_answered


def test_a_deleted_ticket_takes_its_lock_with_it(desk, ken_ticket):
    locks.acquire_lock(desk.john.user, ken_ticket)
    Ticket.objects.filter(pk=ken_ticket.pk).delete()
    assert not TicketLock.objects.exists()
