"""An agent makes a customer their organisation's manager from the people directory: the customer
then sees their colleagues' tickets on the Help Center, and no longer once the box is cleared. Only
a member of an organisation can be one, and only people the agent may edit are changed."""

from __future__ import annotations

import re

import pytest

from django.urls import reverse

from tessera.accounts.models import User
from tessera.audit.models import AuditEntry
from tessera.tickets import services

from .conftest import field_error

ORG_LIST = reverse("portal:organisation_tickets")


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def maria(desk, acme):
    return User.objects.create_user("maria@acme.example", desk.password, name="Maria Lopez", organization=acme)


@pytest.fixture
def kens_ticket(desk, acme):
    return services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="Page two.", topic=desk.general
    )


def edit_url(person) -> str:
    return reverse("staff:person_edit", args=[person.pk])


def details(person, **changes) -> dict:
    data = {"name": person.name, "email": person.email, "organization": person.organization_id or ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def sees_organisation_list(client, who) -> bool:
    client.force_login(who)
    response = client.get(ORG_LIST)
    return response.status_code == 200 and "Printer jams" in text(response)


def test_ticking_the_box_lets_the_customer_see_a_colleagues_ticket_and_clearing_it_takes_that_away(
    client, desk, acme, maria, kens_ticket
):
    assert not sees_organisation_list(client, maria)

    client.force_login(desk.john.user)
    assert 'name="organization_manager"' in client.get(edit_url(maria)).content.decode()
    saved = client.post(edit_url(maria), details(maria, organization_manager="on"))
    assert saved.status_code == 302
    maria.refresh_from_db()
    assert maria.organization_manager
    audit = AuditEntry.objects.get(object_type="accounts.user", object_id=str(maria.pk), actor=desk.john.user)
    assert (audit.before, audit.after) == ({"organization_manager": False}, {"organization_manager": True})

    # The agent sees it beside the organisation, on the person's page and in the member list.
    assert "Acme Organisation manager" in text(client.get(reverse("staff:person", args=[maria.pk])))
    members = text(client.get(reverse("staff:organisation", args=[acme.pk])))
    assert "maria@acme.example Organisation manager" in members
    assert "ken@example.com Organisation manager" not in members
    # The form starts from the flag.
    assert re.search(r'name="organization_manager"[^>]*checked', client.get(edit_url(maria)).content.decode())

    assert sees_organisation_list(client, maria)

    client.force_login(desk.john.user)
    assert client.post(edit_url(maria), details(maria)).status_code == 302  # the box left unticked
    maria.refresh_from_db()
    assert not maria.organization_manager
    assert not sees_organisation_list(client, maria)
    assert "Organisation manager" not in text(client.get(reverse("staff:person", args=[maria.pk])))


def test_someone_without_an_organisation_cannot_be_made_manager_and_what_was_typed_is_kept(client, desk):
    nina = User.objects.create_user("nina@example.net", name="Nina")
    client.force_login(desk.john.user)
    refused = client.post(edit_url(nina), details(nina, name="Nina Typed", organization_manager="on"))
    html = refused.content.decode()
    assert refused.status_code == 400
    assert field_error(html, "id_organization_manager").startswith("Only a member of an organisation")
    assert 'value="Nina Typed"' in html
    nina.refresh_from_db()
    assert (nina.name, nina.organization_manager) == ("Nina", False)


def test_clearing_the_organisation_while_ticking_the_box_is_refused(client, desk, acme, maria):
    client.force_login(desk.john.user)
    refused = client.post(edit_url(maria), details(maria, organization="", organization_manager="on"))
    assert refused.status_code == 400
    assert field_error(refused.content.decode(), "id_organization_manager").startswith("Only a member")
    maria.refresh_from_db()
    assert maria.organization == acme


def test_a_manager_taken_out_of_the_organisation_stops_being_its_manager(client, desk, acme, maria, kens_ticket):
    maria.organization_manager = True
    maria.save()
    client.force_login(desk.john.user)
    assert client.post(edit_url(maria), details(maria, organization="")).status_code == 302
    maria.refresh_from_db()
    assert (maria.organization_id, maria.organization_manager) == (None, False)
    # Joining again later grants nothing unasked.
    maria.organization = acme
    maria.save()
    assert not sees_organisation_list(client, maria)


def test_people_without_the_right_to_edit_cannot_make_a_manager(client, desk, acme, maria, kens_ticket):
    client.force_login(desk.ken)  # a customer, not an agent
    assert client.post(edit_url(maria), details(maria, organization_manager="on")).status_code == 403
    maria.refresh_from_db()
    assert not maria.organization_manager

    client.force_login(desk.john.user)  # an agent's own record is changed in the admin only
    jane = desk.jane.user
    jane.organization = acme
    jane.save()
    assert client.post(edit_url(jane), details(jane, organization_manager="on")).status_code == 403
    jane.refresh_from_db()
    assert not jane.organization_manager
