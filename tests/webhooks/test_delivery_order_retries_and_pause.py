"""Deliveries reach a receiver in order per ticket, are retried with a doubling wait after a
500 or a timeout, are given up after the last try, and a receiver that keeps failing pauses
its subscription and its owner hears of it. Time moves by passing `now` to the job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from django.urls import reverse
from django.utils import timezone

from tessera.tickets import services
from tessera.tickets.models import Ticket
from tessera.webhooks import delivery
from tessera.webhooks.models import Attempt, Delivery, DeliveryStatus, Subscription, SubscriptionState


def open_ticket(desk, subject="Printer jams"):
    return services.open_ticket(desk.ken, requester=desk.ken, subject=subject, message="Help.", topic=desk.general)


def later(minutes: float):
    return timezone.now() + timedelta(minutes=minutes)


def test_after_a_500_the_delivery_is_retried_and_later_ones_for_the_ticket_wait(desk, receiver, subscribe, committed):
    subscribe(receiver.url)
    receiver.plan = [500]
    ticket = committed(open_ticket, desk)
    committed(services.add_note, desk.john.user, ticket, note="First note.")
    committed(services.add_note, desk.john.user, Ticket.objects.get(pk=ticket.pk), note="Second note.")
    assert [r.answer for r in receiver.received] == [500]  # the notes wait behind it
    first = Delivery.objects.get(event="ticket.created")
    assert (first.status, first.attempts, first.last_response_code) == (DeliveryStatus.PENDING, 1, 500)
    assert Delivery.objects.filter(event="note.created", attempts=0).count() == 2

    delivery.run(now=later(0.5))  # not due yet: the first wait is a minute
    assert len(receiver.received) == 1
    delivery.run(now=later(1.5))
    assert receiver.events() == ["ticket.created", "note.created", "note.created"]
    assert [b.get("note", {}).get("body_text") for b in receiver.bodies] == [None, "First note.", "Second note."]
    assert [a.response_code for a in Attempt.objects.filter(delivery=first)] == [500, 200]
    assert all(a.duration_ms >= 0 for a in Attempt.objects.all())


def test_a_receiver_that_answers_too_late_is_tried_again(desk, receiver, subscribe, committed):
    subscribe(receiver.url)
    receiver.plan = ["hang"]
    committed(open_ticket, desk)
    sent = Delivery.objects.get()
    assert sent.status == DeliveryStatus.PENDING
    assert sent.last_response_code is None
    assert "in time" in sent.last_error
    assert Attempt.objects.get().duration_ms >= 400  # the read timeout, 0.5 s
    delivery.run(now=later(2))
    assert receiver.events() == ["ticket.created"]
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_the_wait_doubles_and_the_delivery_is_given_up_after_the_last_try(desk, receiver, subscribe, committed):
    subscribe(receiver.url)  # four tries, pausing after three failures in a row (conftest)
    receiver.plan = [503, 503, 503, 503]
    ticket = committed(open_ticket, desk)
    first = Delivery.objects.get()
    start = first.attempt_log.get().at
    assert first.next_attempt_at - start == timedelta(minutes=1)
    delivery.run(now=start + timedelta(minutes=1))
    first.refresh_from_db()
    assert first.next_attempt_at - (start + timedelta(minutes=1)) == timedelta(minutes=2)
    # A note meanwhile waits behind it.
    committed(services.add_note, desk.john.user, ticket, note="Meanwhile.")
    delivery.run(now=start + timedelta(minutes=3))
    first.refresh_from_db()
    assert first.next_attempt_at - (start + timedelta(minutes=3)) == timedelta(minutes=4)
    # Three failures in a row paused the subscription; resumed, its fourth try is its last.
    assert Subscription.objects.get().state == SubscriptionState.PAUSED
    from tessera.webhooks.services import resume

    resume(Subscription.objects.get(), now=start + timedelta(minutes=8))
    first.refresh_from_db()
    assert (first.status, first.attempts) == (DeliveryStatus.FAILED, 4)
    # Given up, it lets the next one go.
    assert receiver.events() == ["note.created"]


def test_queues_of_different_tickets_do_not_wait_for_each_other(desk, receiver, subscribe, committed):
    subscribe(receiver.url)
    receiver.plan = [500]
    committed(open_ticket, desk, "Printer jams")
    committed(open_ticket, desk, "Scanner smokes")
    assert [b["ticket"]["subject"] for b in receiver.bodies] == ["Scanner smokes"]


def test_a_receiver_that_keeps_failing_pauses_its_subscription_and_tells_its_owner(
    desk, receiver, subscribe, committed, mailoutbox
):
    subscription = subscribe(receiver.url)
    receiver.plan = [500, 500, 500]
    for subject in ("One", "Two", "Three"):
        committed(open_ticket, desk, subject)
    subscription.refresh_from_db()
    assert subscription.state == SubscriptionState.PAUSED
    assert subscription.consecutive_failures == 3
    assert "3 failed attempts in a row" in subscription.pause_reason
    [mail] = [m for m in mailoutbox if m.to == ["admin@example.com"]]
    assert "CRM sync" in mail.subject and "paused" in mail.subject
    assert reverse("admin:webhooks_subscription_change", args=[subscription.pk]) in mail.body
    assert "The receiver answered 500" in mail.body

    # Paused: nothing is sent, but changes are still queued.
    committed(open_ticket, desk, "Four")
    delivery.run(now=later(30))
    assert receiver.taken == []
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 4

    from tessera.webhooks.services import resume

    resume(subscription, now=later(30))
    assert sorted(b["ticket"]["subject"] for b in receiver.bodies) == ["Four", "One", "Three", "Two"]
    subscription.refresh_from_db()
    assert (subscription.state, subscription.consecutive_failures) == (SubscriptionState.ACTIVE, 0)


def test_a_success_resets_the_count_of_failures_in_a_row(desk, receiver, subscribe, committed, mailoutbox):
    subscription = subscribe(receiver.url)
    receiver.plan = [500, 500, 200, 500, 500]
    for subject in ("One", "Two", "Three", "Four", "Five"):
        committed(open_ticket, desk, subject)
    subscription.refresh_from_db()
    assert (subscription.state, subscription.consecutive_failures) == (SubscriptionState.ACTIVE, 2)
    assert not [m for m in mailoutbox if "paused" in m.subject]


@pytest.mark.django_db
def test_an_administrator_redelivers_from_the_log(desk, receiver, subscribe, committed, client):
    subscribe(receiver.url)
    committed(open_ticket, desk)
    original = Delivery.objects.get()
    client.force_login(desk.admin)
    response = committed(
        client.post,
        reverse("admin:webhooks_delivery_changelist"),
        {"action": "redeliver", "_selected_action": [original.pk]},
    )
    assert response.status_code == 302
    assert receiver.events() == ["ticket.created", "ticket.created"]
    first, again = receiver.bodies
    assert again["id"] != first["id"]  # its own delivery id: a receiver dropping repeats takes it
    assert {k: v for k, v in again.items() if k != "id"} == {k: v for k, v in first.items() if k != "id"}
    copy = Delivery.objects.exclude(pk=original.pk).get()
    assert (copy.redelivery_of, copy.sequence, copy.status) == (original, original.sequence + 1, "delivered")


def test_the_delivery_log_shows_each_attempt(desk, receiver, subscribe, committed, client):
    subscribe(receiver.url)
    receiver.plan = [502]
    committed(open_ticket, desk)
    delivery.run(now=later(2))
    client.force_login(desk.admin)
    page = client.get(reverse("admin:webhooks_delivery_change", args=[Delivery.objects.get().pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "502" in text and "200" in text
    assert "Printer jams" in text  # the payload
