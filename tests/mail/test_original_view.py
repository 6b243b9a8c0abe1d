"""The full original of an email, for agents: what the ticket shows without the quoted history is
one click away, as it arrived; agents who cannot see the ticket learn nothing about it."""

from __future__ import annotations

import pytest

from django.urls import reverse

from tessera.mail import ingest as inbox
from tessera.mail.models import Delivery

from .test_ingest import MARKER, mail


@pytest.fixture(autouse=True)
def _marker(settings):
    settings.TESSERA = {**settings.TESSERA, "REPLY_MARKER": MARKER}


@pytest.fixture
def kens_answer(desk, ken_ticket):
    """Ken answered our mail by email, quoting it, with a log file attached."""
    Delivery.objects.create(
        ticket=ken_ticket, notice="response", recipient="ken@example.com", message_id="tessera-1-x@localhost"
    )
    raw = mail(
        subject="Re: Drucker stört",
        body=f"Still jams after the reset.\n\n{MARKER}\nJohn Doe wrote:\n> Please reset the printer.\n",
        in_reply_to="<tessera-1-x@localhost>",
        attachments=(("printer.log", b"paper jam at tray 2", "text/plain"),),
    )
    assert b"=?utf-8?q?st=C3=B6rt?=" in raw  # the client sent the subject as an RFC 2047 encoded word
    row = inbox.ingest(raw, channel="pipe")
    assert row.ticket == ken_ticket and "Please reset" not in row.entry.body_text
    return row


def test_an_agent_sees_the_whole_original_including_the_stripped_history(client, desk, kens_answer):
    client.force_login(desk.john.user)
    page = client.get(reverse("mail:original", args=[kens_answer.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Still jams after the reset." in html
    assert "&gt; Please reset the printer." in html  # the quoted history, shown as text
    assert "printer.log" in html
    assert "In-Reply-To" in html and "&lt;tessera-1-x@localhost&gt;" in html
    assert "Re: Drucker stört" in html  # encoded words decoded in the header list
    assert "Drucker =?utf-8?q?st=C3=B6rt?=" in html  # and as received in the raw source
    assert reverse("staff:ticket", args=[kens_answer.ticket.number]) in html


def test_an_agent_who_cannot_see_the_ticket_gets_not_found(client, desk, kens_answer):
    client.force_login(desk.bill.user)  # Billing: Support's ticket is not theirs
    page = client.get(reverse("mail:original", args=[kens_answer.pk]))
    assert page.status_code == 404
    assert b"Still jams" not in page.content


def test_a_message_that_does_not_exist_gets_the_same_not_found(client, desk, kens_answer):
    client.force_login(desk.john.user)
    assert client.get(reverse("mail:original", args=[kens_answer.pk + 1000])).status_code == 404


def test_people_outside_the_workspace_cannot_open_it(client, desk, kens_answer):
    url = reverse("mail:original", args=[kens_answer.pk])
    assert client.get(url).status_code == 302  # to the staff sign-in
    client.force_login(desk.ken)
    page = client.get(url)
    assert page.status_code == 403 and b"Still jams" not in page.content


def test_a_refused_message_with_no_ticket_is_only_for_administrators(client, desk):
    row = inbox.ingest(b"\x00 not mail at all", channel="pipe")
    client.force_login(desk.john.user)
    assert client.get(reverse("mail:original", args=[row.pk])).status_code == 404


def test_the_ticket_page_links_an_emailed_entry_to_its_original(client, desk, kens_answer):
    client.force_login(desk.john.user)
    page = client.get(f"/staff/tickets/{kens_answer.ticket.number}/").content.decode()
    entry_block = page[page.index(f'id="entry-{kens_answer.entry.pk}"') :]
    entry_block = entry_block[: entry_block.index("</li>")]
    assert f'href="{reverse("mail:original", args=[kens_answer.pk])}"' in entry_block
    assert "View original email" in entry_block
    assert "Please reset the printer" not in entry_block  # the stripped history stays behind the link
