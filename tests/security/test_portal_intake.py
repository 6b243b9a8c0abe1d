"""The portal's new-ticket form against abuse: floods, agents' addresses, and probing for accounts."""

from __future__ import annotations

import re

import pytest

from django.test import Client

from tessera.accounts.models import User
from tessera.tickets.models import Ticket

from ..portal.test_open_ticket import HOME, guest_form


def _open(client: Client, desk, ip: str = "203.0.113.9", **overrides):
    return client.post(HOME, guest_form(desk, **overrides), REMOTE_ADDR=ip)


def _text(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------- flood limits


@pytest.fixture
def limits(settings):
    settings.TESSERA = {**settings.TESSERA, "INTAKE_LIMIT_PER_IP": 3, "INTAKE_LIMIT_PER_ADDRESS": 2}


def test_one_address_opens_only_so_many_tickets_an_hour(client, desk, limits, mailoutbox):
    for i in range(2):
        assert _open(client, desk, ip=f"198.51.100.{i}", subject=f"Down {i}").status_code == 302
    sent = len(mailoutbox)

    refused = _open(client, desk, ip="198.51.100.77", subject="Down again")  # another address does not help

    assert refused.status_code == 429
    html = _text(refused)
    assert "You have opened several tickets in a short time" in html and "minutes" in html
    assert 'value="Down again"' in html and "Since 9:00 nobody can send" in html  # nothing typed is lost
    assert Ticket.objects.count() == 2 and len(mailoutbox) == sent


def test_one_client_opens_only_so_many_tickets_an_hour_whatever_addresses_it_types(client, desk, limits):
    for i in range(3):
        assert _open(client, desk, email=f"made-up-{i}@example.net").status_code == 302
    refused = _open(client, desk, email="made-up-9@example.net")
    assert refused.status_code == 429
    assert Ticket.objects.count() == 3
    assert not User.objects.filter(email="made-up-9@example.net").exists()
    # Someone else, elsewhere, is not affected.
    assert _open(client, desk, ip="192.0.2.1", email="someone@example.net").status_code == 302


def test_signed_in_customers_are_limited_by_their_own_address(client, desk, limits):
    client.force_login(desk.ken)
    for i in range(2):
        assert client.post(HOME, guest_form(desk, subject=f"Jam {i}"), REMOTE_ADDR=f"192.0.2.{i}").status_code == 302
    assert client.post(HOME, guest_form(desk, subject="Jam 3"), REMOTE_ADDR="192.0.2.50").status_code == 429


def test_a_form_with_mistakes_does_not_use_up_the_limit(client, desk, limits):
    for _ in range(5):
        assert _open(client, desk, subject="").status_code == 400
    assert _open(client, desk).status_code == 302


# ---------------------------------------------------------------------------- agents' addresses


@pytest.mark.parametrize("address", ["john@example.com", "JOHN@Example.COM", "admin@example.com"])
def test_nobody_opens_a_portal_ticket_as_an_agent_or_administrator_without_signing_in(client, desk, address):
    response = _open(client, desk, email=address)
    assert response.status_code == 400
    html = _text(response)
    assert "belongs to a member of the help desk staff" in html and "sign in" in html.lower()
    assert 'value="Mail server down"' in html
    assert not Ticket.objects.exists()


def test_an_agent_signed_in_opens_a_portal_ticket_as_themselves(client, desk):
    client.force_login(desk.john.user)
    assert client.post(HOME, guest_form(desk)).status_code == 302
    assert Ticket.objects.get().user == desk.john.user


# ---------------------------------------------------------------------------- enumeration


def _answer(client: Client, desk, address: str) -> tuple[int, str, int, str]:
    """What a stranger learns from one submission: the answer, and the page it leads to."""
    first = _open(client, desk, ip=f"192.0.2.{abs(hash(address)) % 200}", email=address)
    follow = client.get(first["Location"]) if first.status_code == 302 else first
    body = re.sub(re.escape(address.lower()), "ADDRESS", _text(follow), flags=re.I)
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|nonce="[^"]+"', "", body)  # fresh per request
    return first.status_code, first.get("Location", ""), follow.status_code, body


def test_a_disabled_address_gets_the_same_answer_as_an_unknown_one_and_a_known_one(desk):
    User.objects.create_user("gone@example.org", name="Gone Away", is_active=False)
    User.objects.create_user("known@example.org", name="Known Customer")

    unknown = _answer(Client(), desk, "nobody-yet@example.org")
    disabled = _answer(Client(), desk, "gone@example.org")
    known = _answer(Client(), desk, "known@example.org")

    assert unknown == disabled == known
    assert unknown[0] == 302 and unknown[2] == 200
    assert Ticket.objects.filter(user__email="gone@example.org").count() == 0
    assert Ticket.objects.count() == 2
