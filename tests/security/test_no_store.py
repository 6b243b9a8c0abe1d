"""Pages with private data tell browsers and proxies to keep no copy (Cache-Control: no-store).

A shared computer's browser cache otherwise keeps internal notes and other people's tickets
after the agent has signed out."""

from __future__ import annotations

import pytest

from django.urls import reverse

from tessera.tickets import access_links, services
from tessera.tickets.attachments import Upload


@pytest.fixture
def worked(desk, ken_ticket):
    """Ken's ticket with a public file and an internal note."""
    services.reply(desk.ken, ken_ticket, message="Log attached.", uploads=[Upload("log.txt", b"jam", "text/plain")])
    services.add_note(desk.john.user, ken_ticket, note="Internal: toner supplier is late.")
    return ken_ticket


def _private(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives and response.get("Pragma") == "no-cache"


def _file(ticket):
    return ticket.entries.filter(attachments__isnull=False).first().attachments.get()


WORKSPACE = [
    lambda t: reverse("staff:dashboard"),
    lambda t: reverse("staff:queue", args=["open"]),
    lambda t: reverse("staff:queue_counts"),
    lambda t: reverse("staff:search") + "?q=printer",
    lambda t: reverse("staff:ticket", args=[t.number]),
    lambda t: reverse("staff:ticket_presence", args=[t.number]),
    lambda t: reverse("staff:attachment", args=[_file(t).pk]),
    lambda t: reverse("staff:profile"),
    lambda t: reverse("staff:ticket", args=[999999]),  # a not-found page inside the workspace too
]


@pytest.mark.parametrize("url", WORKSPACE, ids=range(len(WORKSPACE)))
def test_every_workspace_page_is_never_stored(client, desk, worked, url):
    client.force_login(desk.john.user)
    response = client.get(url(worked))
    assert response.status_code in (200, 404)
    assert _private(response), response.get("Cache-Control")


@pytest.mark.parametrize("url", ["/admin/", "/admin/accounts/user/", "/admin/login/"])
def test_the_configuration_pages_are_never_stored(client, desk, url):
    client.force_login(desk.admin)
    assert _private(client.get(url))


def test_the_workspace_sign_in_page_is_never_stored(client, db):
    assert _private(client.get(reverse("staff:login")))


PORTAL = [
    lambda t, d: reverse("portal:my_tickets"),
    lambda t, d: reverse("portal:ticket", args=[t.number]),
    lambda t, d: reverse("portal:ticket_file", args=[t.number, _file(t).pk]),
    lambda t, d: reverse("portal:home"),  # signed in: it greets Ken by name
]


@pytest.mark.parametrize("url", PORTAL, ids=range(len(PORTAL)))
def test_portal_pages_of_a_signed_in_customer_are_never_stored(client, desk, worked, url):
    client.force_login(desk.ken)
    response = client.get(url(worked, desk))
    assert response.status_code == 200
    assert _private(response)


def test_a_ticket_opened_through_an_access_link_is_never_stored(client, desk, worked):
    link = access_links.access_url(worked, desk.ken)
    response = client.get(link)
    assert response.status_code == 200
    assert _private(response)
    file_url = reverse("portal:access_file", args=[link.rstrip("/").rsplit("/", 1)[-1], _file(worked).pk])
    assert _private(client.get(file_url))


def test_the_confirmation_naming_a_guests_address_is_never_stored(client, desk):
    from ..portal.test_open_ticket import HOME, guest_form

    opened = client.get(client.post(HOME, guest_form(desk))["Location"])
    assert opened.status_code == 200 and "greta@example.org" in opened.content.decode()
    assert _private(opened)


def test_the_public_front_page_stays_cacheable_for_anonymous_visitors(client, db):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
