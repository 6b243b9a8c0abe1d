"""What a receiver is told for each event it subscribed to, and nothing it did not ask for."""

from __future__ import annotations

from datetime import timedelta

import pytest

from django.db import transaction
from django.utils import timezone

from tessera.tickets import listeners, services
from tessera.tickets.models import Ticket
from tessera.webhooks.models import Delivery


@pytest.fixture
def ticket(desk, committed):
    return committed(
        services.open_ticket,
        desk.ken,
        requester=desk.ken,
        subject="Printer jams",
        message="It jams on page two.",
        topic=desk.general,
    )


def test_a_new_ticket_is_sent_as_ticket_created_with_its_first_message_in_it(desk, receiver, subscribe, committed):
    subscribe(receiver.url)
    ticket = committed(
        services.open_ticket,
        desk.ken,
        requester=desk.ken,
        subject="Printer jams",
        message="It jams on page two.",
        topic=desk.general,
    )
    assert receiver.events() == ["ticket.created"]  # the opening message is not a separate message.created
    body = receiver.bodies[0]
    assert body["event"] == "ticket.created"
    assert body["ticket"] == {
        "id": ticket.pk,
        "number": ticket.number,
        "reference": ticket.reference,
        "subject": "Printer jams",
        "state": "open",
        "status": desk.open.name,
        "priority": desk.sev_c.name,
        "department": "Support",
        "team": None,
        "assignee": None,
        "requester": {"name": "Ken Adams", "email": "ken@example.com"},
        "topic": "General question",
        "source": ticket.source,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "due_at": ticket.due_at.isoformat() if ticket.due_at else None,
        "url": f"http://127.0.0.1:8000/staff/tickets/{ticket.number}/",
    } | {"url": body["ticket"]["url"]}
    assert body["ticket"]["url"].endswith(f"/staff/tickets/{ticket.number}/")
    assert body["changes"][0]["kind"] == "created"
    assert body["changes"][0]["actor"] == "Ken Adams"


def test_an_assignment_to_an_agent_and_a_team_is_one_ticket_assigned(desk, ticket, receiver, subscribe, committed):
    subscribe(receiver.url)
    committed(services.assign, desk.john.user, ticket, agent=desk.john, team=desk.ops)
    assert receiver.events() == ["ticket.assigned"]
    body = receiver.bodies[0]
    assert body["ticket"]["assignee"] == {"name": "John Doe", "email": "john@example.com"}
    assert body["ticket"]["team"] == "Infrastructure on-call"
    assert [(c["kind"], c["after"]) for c in body["changes"]] == [
        ("assigned", "John Doe"),
        ("assigned", "Infrastructure on-call"),
    ]
    assert body["changes"][0]["data"]["agent_id"] == desk.john.pk


def test_a_status_change_is_ticket_status_changed(desk, ticket, receiver, subscribe, committed):
    subscribe(receiver.url)
    committed(services.set_status, desk.john.user, ticket, status=desk.resolved)
    assert receiver.events() == ["ticket.status_changed"]
    body = receiver.bodies[0]
    assert body["ticket"]["state"] == "resolved"
    change = body["changes"][0]
    assert (change["kind"], change["before"], change["after"]) == ("status", desk.open.name, desk.resolved.name)
    assert change["actor"] == "John Doe"


def test_a_priority_change_is_ticket_updated(desk, ticket, receiver, subscribe, committed):
    subscribe(receiver.url)
    committed(services.set_priority, desk.john.user, ticket, priority=desk.sev_a)
    assert receiver.events() == ["ticket.updated"]
    body = receiver.bodies[0]
    assert body["ticket"]["priority"] == desk.sev_a.name
    assert [(c["kind"], c["before"], c["after"]) for c in body["changes"]] == [
        ("priority", desk.sev_c.name, desk.sev_a.name)
    ]


def test_replies_from_either_side_are_message_created(desk, ticket, receiver, subscribe, committed):
    subscribe(receiver.url)
    committed(services.reply, desk.john.user, ticket, message="Try the **other** tray.")
    committed(services.reply, desk.ken, Ticket.objects.get(pk=ticket.pk), message="That worked, thanks.")
    assert receiver.events() == ["message.created", "message.created"]
    agent, requester = receiver.bodies
    assert agent["message"]["kind"] == "response"
    assert agent["message"]["author"] == "John Doe"
    assert agent["message"]["public"] is True
    assert agent["message"]["body_text"] == "Try the **other** tray."
    assert "<strong>other</strong>" in agent["message"]["body_html"]
    assert agent["message"]["attachments"] == []
    assert requester["message"]["kind"] == "message"
    assert requester["message"]["author"] == "Ken Adams"
    assert "changes" not in agent


def test_an_internal_note_is_note_created(desk, ticket, receiver, subscribe, committed):
    subscribe(receiver.url)
    committed(services.add_note, desk.john.user, ticket, note="Vendor ticket 4711.")
    assert receiver.events() == ["note.created"]
    note = receiver.bodies[0]["note"]
    assert (note["kind"], note["public"], note["body_text"]) == ("note", False, "Vendor ticket 4711.")


@pytest.mark.parametrize(("breach", "event"), [(False, "sla.warning"), (True, "sla.breached")])
def test_sla_warnings_and_breaches_are_sent(desk, ticket, receiver, subscribe, committed, breach, event):
    subscribe(receiver.url)
    now = timezone.now()
    due = now + timedelta(minutes=10) if not breach else now - timedelta(minutes=1)
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_due_at=due, first_response_warn_at=now - timedelta(minutes=5)
    )
    assert committed(services.record_sla_alert, ticket.pk, "first_response", breach=breach, now=now)
    assert receiver.events() == [event]
    body = receiver.bodies[0]
    assert body["sla"] == {"target": "first_response", "due_at": due.isoformat()}
    assert body["changes"][0]["kind"] == ("sla_breached" if breach else "sla_warning")


def test_a_subscription_gets_only_the_events_it_chose(desk, ticket, receiver, subscribe, committed):
    subscribe(receiver.url, events=["note.created"])
    committed(services.reply, desk.john.user, ticket, message="On it.")
    committed(services.set_priority, desk.john.user, ticket, priority=desk.sev_a)
    committed(services.add_note, desk.john.user, Ticket.objects.get(pk=ticket.pk), note="Called the vendor.")
    assert receiver.events() == ["note.created"]
    assert Delivery.objects.count() == 1


def test_a_change_that_rolled_back_is_never_sent(desk, ticket, receiver, subscribe, django_capture_on_commit_callbacks):
    subscribe(receiver.url)

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abort), transaction.atomic():
        services.add_note(desk.john.user, ticket, note="Never mind.")
        raise Abort
    assert receiver.received == []
    assert not Delivery.objects.exists()


def test_one_action_is_one_call_to_the_listeners(desk, ticket, subscribe, receiver, django_capture_on_commit_callbacks):
    subscribe(receiver.url)
    heard = []
    listeners.register("test-counter", heard.append)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.transfer(desk.john.user, ticket, department=desk.sysadmin, agent=desk.jane, note="Server side.")
    finally:
        listeners.unregister("test-counter")
    assert len(heard) == 1
    kinds = [e.kind for e in heard[0].events]
    assert "transferred" in kinds and "assigned" in kinds
    assert [w.entry.kind for w in heard[0].entries] == ["note"]
    # One commit hook for the listeners, however many rows the transfer wrote.
    assert sum(1 for c in callbacks if getattr(c, "__qualname__", "") == "_Pending.flush") == 1


def test_without_subscriptions_no_change_is_collected(desk, ticket, committed, django_assert_num_queries):
    heard = []
    committed(services.add_note, desk.john.user, ticket, note="Quiet desk.")
    listeners.register("test-quiet", heard.append, wants=lambda: False)
    try:
        committed(services.add_note, desk.john.user, Ticket.objects.get(pk=ticket.pk), note="Still quiet.")
    finally:
        listeners.unregister("test-quiet")
    assert heard == []
    assert not Delivery.objects.exists()
