"""A receiver gets one ticket's changes in the order they were committed, even when the
processes that made them write their deliveries in the other order; the sender lets a fresh
queue head settle first. Commits are simulated by running a change's commit hooks, the later
change's first (as a faster process would); time moves by passing `now`, never by sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from django.utils import timezone

from tessera.tickets import services
from tessera.tickets.models import Ticket
from tessera.webhooks import delivery
from tessera.webhooks import services as webhooks
from tessera.webhooks.models import Delivery, DeliveryStatus


@pytest.fixture
def settle(settings: Any) -> Callable[[float], None]:
    def set_window(seconds: float) -> None:
        settings.TESSERA = {**settings.TESSERA, "WEBHOOK_SETTLE_SECONDS": seconds}

    return set_window


@pytest.fixture
def held(django_capture_on_commit_callbacks: Any) -> Callable[..., list[Callable[[], None]]]:
    """Make a change and keep what its commit would run, to be run later by the test."""

    def make(call: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Callable[[], None]]:
        with django_capture_on_commit_callbacks() as hooks:
            call(*args, **kwargs)
        return list(hooks)

    return make


def write(hooks: list[Callable[[], None]]) -> None:
    for hook in hooks:
        hook()


def open_ticket(desk: Any) -> Ticket:
    return services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="Help.", topic=desk.general
    )


def latest(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def soon(seconds: float = 2) -> Any:
    return timezone.now() + timedelta(seconds=seconds)


def test_deliveries_written_in_reverse_are_sent_in_the_order_the_changes_were_committed(
    desk, receiver, subscribe, held, settle
):
    settle(1)
    subscribe(receiver.url)
    opening = held(open_ticket, desk)
    ticket = Ticket.objects.get()
    reply = held(services.reply, desk.john.user, ticket, message="On it.")
    note = held(services.add_note, desk.john.user, latest(ticket), note="Called the vendor.")
    for hooks in (note, reply, opening):  # the last commit's process writes first
        write(hooks)
    assert receiver.received == []  # nothing has settled yet
    delivery.run(now=soon())
    assert receiver.events() == ["ticket.created", "message.created", "note.created"]
    assert list(Delivery.objects.order_by("sequence").values_list("sequence", flat=True)) == [1000, 2000, 3000]


def test_an_sla_alert_goes_between_the_changes_committed_before_and_after_it(desk, receiver, subscribe, held, settle):
    """An alert leaves the ticket's version alone, yet has its place in the ticket's history."""
    settle(1)
    subscribe(receiver.url)
    opening = held(open_ticket, desk)
    ticket = Ticket.objects.get()
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_due_at=now + timedelta(minutes=10), first_response_warn_at=now - timedelta(minutes=5)
    )
    alert = held(services.record_sla_alert, ticket.pk, "first_response", breach=False, now=now)
    note = held(services.add_note, desk.john.user, latest(ticket), note="Looking.")
    for hooks in (note, alert, opening):
        write(hooks)
    delivery.run(now=soon())
    assert receiver.events() == ["ticket.created", "sla.warning", "note.created"]


def test_a_queue_head_younger_than_the_settle_window_waits_then_goes(desk, receiver, subscribe, held, settle):
    settle(1)
    subscribe(receiver.url)
    write(held(open_ticket, desk))
    head = Delivery.objects.get()
    assert head.next_attempt_at == head.created_at + timedelta(seconds=1)
    assert delivery.send_queue(head.subscription_id, head.ticket_id, now=head.created_at) == 0
    delivery.run(now=head.created_at + timedelta(milliseconds=900))
    assert receiver.received == []
    # A change committed a moment before, in another process, is written now: it goes first.
    assert delivery.run(now=head.created_at + timedelta(seconds=1)) == 1
    assert receiver.events() == ["ticket.created"]
    head.refresh_from_db()
    assert head.status == DeliveryStatus.DELIVERED


def test_a_late_delivery_of_an_earlier_change_goes_before_a_later_one_still_settling(
    desk, receiver, subscribe, held, settle
):
    settle(1)
    subscribe(receiver.url)
    write(held(open_ticket, desk))
    ticket = Ticket.objects.get()
    delivery.run(now=soon())
    reply = held(services.reply, desk.john.user, ticket, message="On it.")
    note = held(services.add_note, desk.john.user, latest(ticket), note="Called the vendor.")
    write(note)
    delivery.run(now=timezone.now())  # the note is fresh: it waits
    write(reply)
    delivery.run(now=soon())
    assert receiver.events() == ["ticket.created", "message.created", "note.created"]


def test_a_redelivery_goes_at_the_end_of_the_ticket_queue(desk, receiver, subscribe, committed):
    subscribe(receiver.url)
    receiver.plan = [200, 500]
    ticket = committed(open_ticket, desk)
    committed(services.add_note, desk.john.user, ticket, note="First look.")
    created, noted = Delivery.objects.order_by("sequence")
    assert noted.status == DeliveryStatus.PENDING  # refused once, waiting for its retry
    copy = committed(webhooks.redeliver, created)
    assert copy.sequence == noted.sequence + 1
    assert receiver.events() == ["ticket.created"]  # the copy waits behind the note
    delivery.run(now=timezone.now() + timedelta(minutes=2))
    assert receiver.events() == ["ticket.created", "note.created", "ticket.created"]
    # A later change still goes after the copy.
    committed(services.add_note, desk.john.user, latest(ticket), note="Second look.")
    assert receiver.events()[-1] == "note.created"
    assert Delivery.objects.order_by("-sequence").first().payload["note"]["body_text"] == "Second look."


def test_a_numbering_collision_with_another_process_loses_no_delivery(
    desk, receiver, subscribe, committed, monkeypatch
):
    """Another process wrote a delivery after this one read the queue: the write collides on
    the unique sequence and this one numbers again."""
    subscribe(receiver.url)
    ticket = committed(open_ticket, desk)
    created = Delivery.objects.get()
    numbered = webhooks._number
    tries = []

    def stale_then_fresh(rows: list[Delivery], places: dict[int, webhooks.Place]) -> None:
        numbered(rows, places)
        tries.append([row.sequence for row in rows])
        if len(tries) == 1:
            for row in rows:
                row.sequence = created.sequence  # as read before the other's row was committed

    monkeypatch.setattr(webhooks, "_number", stale_then_fresh)
    committed(services.add_note, desk.john.user, ticket, note="Collides once.")
    assert len(tries) == 2
    assert Delivery.objects.count() == 2
    assert receiver.events() == ["ticket.created", "note.created"]


def test_two_alerts_at_one_version_both_keep_their_place(desk, receiver, subscribe, held, settle):
    """Neither bumps the version, so both number into the same place: the second takes the
    next free sequence there, still before the next change."""
    settle(1)
    subscribe(receiver.url)
    write(held(open_ticket, desk))
    ticket = Ticket.objects.get()
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_due_at=now - timedelta(minutes=1),
        first_response_warn_at=now - timedelta(minutes=5),
        due_at=now + timedelta(hours=1),
        resolution_warn_at=now - timedelta(minutes=1),
    )
    breach = held(services.record_sla_alert, ticket.pk, "first_response", breach=True, now=now)
    warning = held(services.record_sla_alert, ticket.pk, "resolution", breach=False, now=now)
    note = held(services.add_note, desk.john.user, latest(ticket), note="Escalating.")
    for hooks in (note, warning, breach):
        write(hooks)
    delivery.run(now=soon())
    assert receiver.events()[0] == "ticket.created"
    assert sorted(receiver.events()[1:3]) == ["sla.breached", "sla.warning"]
    assert receiver.events()[3] == "note.created"
    assert Delivery.objects.count() == 4
