"""Closing and reopening from the customer's side: reopen within the status's window; after it
(or where the status does not allow it) a reply, on the portal or by mail, opens a new ticket
linked to the old one. One rule decides: tickets/services/reopen.py."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest

from django.urls import reverse
from django.utils import timezone

from tessera.mail import ingest as inbox
from tessera.mail.models import InboundStatus
from tessera.tickets import services
from tessera.tickets.models import EventKind, State, Ticket, TicketLink

from .helpers import page_text


@pytest.fixture
def closed_ticket(desk, ken_ticket):
    desk.closed.reopen_days = 7
    desk.closed.save()
    services.close_by_user(desk.ken, ken_ticket)
    ken_ticket.refresh_from_db()
    return ken_ticket


def _age(ticket, days):
    """Arrangement: the ticket was closed `days` ago."""
    Ticket.objects.filter(pk=ticket.pk).update(closed_at=timezone.now() - timedelta(days=days))
    ticket.refresh_from_db()


def _linked(a, b) -> bool:
    low, high = sorted((a.pk, b.pk))
    return TicketLink.objects.filter(ticket_id=low, other_id=high).exists()


def test_the_window_follows_the_status(desk, closed_ticket):
    now = timezone.now()
    assert services.may_reopen(closed_ticket, now)
    assert not services.may_reopen(closed_ticket, now + timedelta(days=8))
    desk.closed.reopen_days = None
    desk.closed.save()
    closed_ticket.refresh_from_db()
    assert services.may_reopen(closed_ticket, now + timedelta(days=800))
    desk.closed.allow_reopen = False
    desk.closed.save()
    closed_ticket.refresh_from_db()
    assert not services.may_reopen(closed_ticket, now)


def test_the_requester_reopens_within_the_window(client, desk, closed_ticket):
    client.force_login(desk.ken)
    url = reverse("portal:ticket", args=[closed_ticket.number])
    page = page_text(client.get(url))
    assert "Reopen this ticket" in page and "You can reopen this ticket until" in page

    response = client.post(url, {"action": "reopen", "version": closed_ticket.version}, follow=True)

    assert "is open again" in page_text(response)
    closed_ticket.refresh_from_db()
    assert closed_ticket.state == State.OPEN and closed_ticket.closed_at is None
    assert closed_ticket.events.filter(kind=EventKind.REOPENED, actor=desk.ken).exists()


def test_after_the_window_there_is_no_reopen_and_a_reply_opens_a_linked_ticket(client, desk, closed_ticket):
    _age(closed_ticket, 10)
    client.force_login(desk.ken)
    url = reverse("portal:ticket", args=[closed_ticket.number])
    page = page_text(client.get(url))
    assert "Reopen this ticket" not in page and "Your reply opens a new ticket" in page
    refused = client.post(url, {"action": "reopen", "version": closed_ticket.version})
    assert refused.status_code == 403

    response = client.post(url, {"message": "It jams again.", "version": closed_ticket.version}, follow=True)

    new = Ticket.objects.exclude(pk=closed_ticket.pk).get()
    assert response.redirect_chain[-1][0] == reverse("portal:ticket", args=[new.number])
    assert f"opened a new ticket, {new.reference}" in page_text(response)
    assert new.user == desk.ken and new.subject == "Printer jams" and new.department == closed_ticket.department
    assert new.entries.get().body_text.startswith("It jams again.")
    assert _linked(new, closed_ticket)
    closed_ticket.refresh_from_db()
    assert closed_ticket.state == State.CLOSED
    assert closed_ticket.events.filter(kind=EventKind.LINKED, after=new.reference).exists()


def test_a_status_that_does_not_allow_reopening_sends_replies_to_a_new_ticket(client, desk, closed_ticket):
    desk.closed.allow_reopen = False
    desk.closed.save()
    client.force_login(desk.ken)
    url = reverse("portal:ticket", args=[closed_ticket.number])

    client.post(url, {"message": "Again.", "version": closed_ticket.version})

    assert Ticket.objects.count() == 2


def test_within_the_window_a_reply_reopens_the_same_ticket(client, desk, closed_ticket):
    client.force_login(desk.ken)
    url = reverse("portal:ticket", args=[closed_ticket.number])

    client.post(url, {"message": "Not fixed yet.", "version": closed_ticket.version})

    assert Ticket.objects.count() == 1
    closed_ticket.refresh_from_db()
    assert closed_ticket.state == State.OPEN


def test_only_the_requester_may_reopen(client, desk, carol, closed_ticket):
    client.force_login(carol)
    url = reverse("portal:ticket", args=[closed_ticket.number])
    assert "Reopen this ticket" not in page_text(client.get(url))

    assert client.post(url, {"action": "reopen", "version": closed_ticket.version}).status_code == 403
    closed_ticket.refresh_from_db()
    assert closed_ticket.state == State.CLOSED


def _mail_reply(ticket, body="It jams again after the repair.") -> bytes:
    m = EmailMessage()
    m["From"] = "Ken Adams <ken@example.com>"
    m["To"] = "support@example.com"
    m["Subject"] = f"Re: [{ticket.reference}] {ticket.subject}"
    m["Date"] = formatdate(localtime=False)
    m["Message-ID"] = make_msgid(domain="client.example")
    m.set_content(body)
    return m.as_bytes()


def test_a_mail_reply_within_the_window_reopens_the_ticket(desk, closed_ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = inbox.ingest(_mail_reply(closed_ticket), channel="pipe")

    assert row.status == InboundStatus.REPLY and row.ticket == closed_ticket
    closed_ticket.refresh_from_db()
    assert closed_ticket.state == State.OPEN


def test_a_mail_reply_after_the_window_opens_a_linked_ticket(
    desk, closed_ticket, django_capture_on_commit_callbacks, mailoutbox
):
    _age(closed_ticket, 30)

    with django_capture_on_commit_callbacks(execute=True):
        row = inbox.ingest(_mail_reply(closed_ticket), channel="pipe")

    new = Ticket.objects.exclude(pk=closed_ticket.pk).get()
    assert row.status == InboundStatus.TICKET and row.ticket == new
    assert "follow-up" in row.reason
    assert new.user == desk.ken and "It jams again" in new.entries.get().body_text
    assert _linked(new, closed_ticket)
    closed_ticket.refresh_from_db()
    assert closed_ticket.state == State.CLOSED
    # The customer learns the new number from its acknowledgement.
    assert any(new.reference in m.subject for m in mailoutbox)
