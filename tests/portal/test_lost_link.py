""" "I lost my link": an address alone brings one mail with a link to each open ticket; the page
answers the same for any address, and unknown ones get no mail."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.urls import reverse

from tessera.tickets import services

from .helpers import assert_accessible_page, comparable, page_text

STATUS = reverse("portal:status")


def test_the_mail_lists_a_link_to_each_open_ticket_and_leaves_closed_ones_out(
    client, desk, ken_ticket, carol, mailoutbox
):
    second = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Toner low", message="Cyan.", topic=desk.general
    )
    done = services.open_ticket(desk.ken, requester=desk.ken, subject="Old laptop", message="Slow.", topic=desk.general)
    services.close_by_user(desk.ken, done)
    mailoutbox.clear()

    response = client.post(STATUS, {"email": " Ken@Example.com "}, follow=True)

    assert response.redirect_chain == [(reverse("portal:status_sent"), 302)]
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["ken@example.com"] and mail.subject == "Links to your open tickets"
    assert "Printer jams" in mail.body and "Toner low" in mail.body and "Old laptop" not in mail.body
    links = [word for word in mail.body.split() if "/t/" in word]
    assert len(links) == 2
    html = mail.alternatives[0].content
    assert all(link in html for link in links)
    pages = [page_text(client.get(urlsplit(link).path)) for link in links]
    assert any("Printer jams" in p for p in pages) and any(second.subject in p for p in pages)


def test_a_collaborator_gets_links_to_the_tickets_they_are_copied_on(client, desk, ken_ticket, carol, mailoutbox):
    client.post(STATUS, {"email": "carol@example.com"})

    assert [m.to for m in mailoutbox] == [["carol@example.com"]]
    assert "Printer jams" in mailoutbox[0].body


def test_unknown_or_ticketless_addresses_get_the_same_page_and_no_mail(client, desk, ken_ticket, mary, mailoutbox):
    known = client.post(STATUS, {"email": "ken@example.com"}, follow=True)
    mailoutbox.clear()

    unknown = client.post(STATUS, {"email": "nobody@example.org"}, follow=True)
    ticketless = client.post(STATUS, {"email": "mary@example.net"}, follow=True)

    assert mailoutbox == []
    assert comparable(unknown) == comparable(known) == comparable(ticketless)
    assert unknown.redirect_chain == known.redirect_chain


def test_the_form_is_labelled_and_keeps_what_was_typed(client, desk):
    page = client.get(STATUS)
    assert_accessible_page(page)
    assert "Find my tickets" in page_text(page)

    refused = client.post(STATUS, {"email": "ken@", "number": ""})
    assert refused.status_code == 400 and 'value="ken@"' in page_text(refused)
