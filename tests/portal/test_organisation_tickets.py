"""An organisation's manager (or every member, where the organisation shares tickets) sees the
organisation's tickets in their own list and opens them; another organisation's people get 404."""

from __future__ import annotations

import pytest

from django.urls import reverse

from tessera.accounts.models import Organization, User
from tessera.tickets import policy, services
from tessera.tickets.policy import Action

from .helpers import page_text

ORG_LIST = reverse("portal:organisation_tickets")


@pytest.fixture
def colleague_ticket(desk, acme):
    return services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="Page two.", topic=desk.general
    )


def _person(email, organization, desk, *, manager=False):
    return User.objects.create_user(
        email, desk.password, name=email.split("@")[0].title(), organization=organization, organization_manager=manager
    )


def test_the_manager_sees_a_colleagues_ticket_and_answers_it(client, desk, acme, colleague_ticket):
    maria = _person("maria@acme.example", acme, desk, manager=True)
    client.force_login(maria)

    listing = client.get(ORG_LIST)
    assert listing.status_code == 200
    assert "Printer jams" in page_text(listing) and "Ken Adams" in page_text(listing)
    assert ORG_LIST in page_text(client.get(reverse("portal:my_tickets")))

    url = reverse("portal:ticket", args=[colleague_ticket.number])
    assert client.get(url).status_code == 200
    answered = client.post(url, {"message": "I can confirm, same here.", "version": colleague_ticket.version})
    assert answered.status_code == 302
    assert colleague_ticket.entries.filter(author=maria).exists()
    assert not policy.can(maria, Action.CLOSE, colleague_ticket)  # closing stays with Ken


def test_a_plain_member_of_a_non_sharing_organisation_sees_no_list(client, desk, acme, colleague_ticket):
    lena = _person("lena@acme.example", acme, desk)
    client.force_login(lena)

    assert client.get(ORG_LIST).status_code == 404
    assert client.get(reverse("portal:ticket", args=[colleague_ticket.number])).status_code == 404
    assert ORG_LIST not in page_text(client.get(reverse("portal:my_tickets")))


def test_every_member_sees_the_list_where_the_organisation_shares(client, desk, acme, colleague_ticket):
    acme.share_tickets = True
    acme.save()
    lena = _person("lena@acme.example", acme, desk)
    client.force_login(lena)

    assert "Printer jams" in page_text(client.get(ORG_LIST))


def test_another_organisations_manager_gets_not_found(client, desk, acme, colleague_ticket):
    other = Organization.objects.create(name="Other", share_tickets=True)
    otto = _person("otto@other.example", other, desk, manager=True)
    client.force_login(otto)

    assert "Printer jams" not in page_text(client.get(ORG_LIST))
    url = reverse("portal:ticket", args=[colleague_ticket.number])
    assert client.get(url).status_code == 404
    assert client.post(url, {"message": "Let me in.", "version": colleague_ticket.version}).status_code == 404
    assert not colleague_ticket.entries.filter(author=otto).exists()


def test_a_manager_who_left_the_organisation_loses_access(client, desk, acme, colleague_ticket):
    maria = _person("maria@acme.example", acme, desk, manager=True)
    maria.organization = None
    maria.save()
    client.force_login(maria)

    assert client.get(ORG_LIST).status_code == 404
    assert client.get(reverse("portal:ticket", args=[colleague_ticket.number])).status_code == 404


def test_the_list_runs_a_fixed_number_of_queries(client, desk, acme, django_assert_max_num_queries, no_intake_limit):
    maria = _person("maria@acme.example", acme, desk, manager=True)
    for n in range(6):
        services.open_ticket(desk.ken, requester=desk.ken, subject=f"Issue {n}", message="x", topic=desk.general)
    client.force_login(maria)
    with django_assert_max_num_queries(12):
        assert client.get(ORG_LIST).status_code == 200
