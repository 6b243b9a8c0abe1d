"""Internal-note files stay with the agents who work the ticket.

An agent who is only the requester of, or copied on, another department's ticket reaches it as
an end user: in the workspace they may fetch what the portal would show them (public entries),
never a note's attachment or a note's original email, even by guessing its sequential id."""

from __future__ import annotations

import pytest

from django.urls import reverse

from tessera.mail.models import InboundMessage
from tessera.tickets import services
from tessera.tickets.attachments import Upload


@pytest.fixture
def bills_support_ticket(desk):
    """Bill (Billing) asked Support for help, with a screenshot; John noted a file internally."""
    ticket = services.open_ticket(
        desk.bill.user,
        requester=desk.bill.user,
        subject="My laptop will not boot",
        message="It beeps three times.",
        topic=desk.general,
        uploads=[Upload("beeps.txt", b"beep beep beep", "text/plain")],
    )
    services.add_collaborator(desk.john.user, ticket, user=desk.jane.user)  # Jane (Sysadmin) copied
    note = services.add_note(
        desk.john.user, ticket, note="Asset tag shows a warranty claim.",
        uploads=[Upload("warranty-internal.txt", b"INTERNAL: serial 4711, claim denied", "text/plain")],
    )  # fmt: skip
    opening = ticket.entries.order_by("pk").first()
    return ticket, opening.attachments.get(), note.attachments.get(), note


def _file(client, att):
    return client.get(reverse("staff:attachment", args=[att.pk]))


@pytest.mark.parametrize("who", ["bill", "jane"])
def test_a_requester_or_copied_agent_from_another_department_cannot_download_a_note_file(
    client, desk, bills_support_ticket, who
):
    _, _, internal, _ = bills_support_ticket
    client.force_login(getattr(desk, who).user)
    response = _file(client, internal)
    assert response.status_code == 404
    assert b"claim denied" not in b"".join(getattr(response, "streaming_content", [response.content]))


@pytest.mark.parametrize("who", ["bill", "jane"])
def test_the_same_agent_still_downloads_the_public_files_of_that_ticket(client, desk, bills_support_ticket, who):
    _, public, _, _ = bills_support_ticket
    client.force_login(getattr(desk, who).user)
    response = _file(client, public)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"beep beep beep"


def test_an_agent_who_works_the_ticket_downloads_the_note_file(client, desk, bills_support_ticket):
    _, _, internal, _ = bills_support_ticket
    client.force_login(desk.john.user)
    response = _file(client, internal)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"INTERNAL: serial 4711, claim denied"


def _received(ticket, entry) -> InboundMessage:
    raw = b"From: John Doe <john@example.com>\r\nSubject: Re: laptop\r\n\r\nINTERNAL: warranty claim denied\r\n"
    return InboundMessage.objects.create(
        dedupe_key="sha256:x", sha256="x", raw=raw, size=len(raw), channel="pipe", ticket=ticket, entry=entry
    )


def test_a_requester_agent_cannot_open_the_original_of_a_note_received_by_mail(client, desk, bills_support_ticket):
    ticket, _, _, note = bills_support_ticket
    message = _received(ticket, note)
    client.force_login(desk.bill.user)
    page = client.get(reverse("mail:original", args=[message.pk]))
    assert page.status_code == 404
    assert b"claim denied" not in page.content
    client.force_login(desk.john.user)
    assert b"claim denied" in client.get(reverse("mail:original", args=[message.pk])).content


def test_a_requester_agent_may_open_the_original_of_a_public_message(client, desk, bills_support_ticket):
    ticket, _, _, _ = bills_support_ticket
    message = _received(ticket, ticket.entries.order_by("pk").first())
    client.force_login(desk.bill.user)
    assert client.get(reverse("mail:original", args=[message.pk])).status_code == 200


def test_a_requester_agent_cannot_open_a_received_mail_without_an_entry(client, desk, bills_support_ticket):
    ticket, _, _, _ = bills_support_ticket
    message = _received(ticket, None)
    client.force_login(desk.bill.user)
    assert client.get(reverse("mail:original", args=[message.pk])).status_code == 404
    client.force_login(desk.john.user)
    assert client.get(reverse("mail:original", args=[message.pk])).status_code == 200
