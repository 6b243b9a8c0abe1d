"""A new person whose address is at an organisation's email domain joins it, whichever way they
arrive (the Help Center, mail, the API, the workspace): one rule, accounts.services.organization_for_email.
And the migration that turned the single domain column into a list kept every domain."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tessera.accounts import directory_services
from tessera.accounts.models import DirectoryNote, Organization, OrganizationDomain, User
from tessera.api import keys
from tessera.api.models import Scope
from tessera.mail import ingest


@pytest.fixture
def acme(desk):
    org = Organization.objects.create(name="Acme")
    OrganizationDomain.objects.create(organization=org, domain="acme.example")
    OrganizationDomain.objects.create(organization=org, domain="acme-labs.example")
    return org


def _mail(sender: str) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "support@example.com"
    m["Subject"] = "Printer jams"
    m["Date"] = formatdate()
    m["Message-ID"] = make_msgid(domain="acme.example")
    m.set_content("It jams on page two.")
    return m.as_bytes()


def test_a_guest_on_the_help_center_joins_the_organisation_of_their_domain(client, desk, acme):
    response = client.post(
        "/",
        {
            "name": "Greta Guest",
            "email": "Greta@ACME.example",
            "topic": desk.general.pk,
            "subject": "Mail down",
            "message": "Since nine.",
        },
    )
    assert response.status_code == 302
    greta = User.objects.get(email="greta@acme.example")
    assert greta.organization == acme
    assert greta.tickets.get().organization == acme  # the ticket is the organisation's too


def test_a_stranger_writing_in_by_mail_joins_the_organisation_of_their_second_domain(desk, acme):
    row = ingest.ingest(_mail("Lab Person <lab@acme-labs.example>"), channel="pipe")
    assert row.ticket is not None
    assert User.objects.get(email="lab@acme-labs.example").organization == acme


def test_the_api_places_new_people_by_domain_both_when_creating_a_user_and_when_opening_a_ticket(client, desk, acme):
    _, people_key = keys.issue_key(name="CRM", created_by=desk.admin, scopes=[Scope.USERS_READ, Scope.USERS_WRITE])
    created = client.post(
        "/api/v1/users",
        {"email": "new@acme.example", "name": "New Person"},
        content_type="application/json",
        headers={"X-API-Key": people_key},
    )
    assert created.status_code == 201, created.content
    assert created.json()["organisation"] == acme.pk

    _, ticket_key = keys.issue_key(
        name="Script", created_by=desk.admin, agent=desk.john, scopes=[Scope.TICKETS_READ, Scope.TICKETS_WRITE]
    )
    opened = client.post(
        "/api/v1/tickets",
        {"requester_email": "other@acme.example", "subject": "VPN", "message": "Drops.", "topic_id": desk.general.pk},
        content_type="application/json",
        headers={"X-API-Key": ticket_key},
    )
    assert opened.status_code == 201, opened.content
    assert User.objects.get(email="other@acme.example").organization == acme


def test_an_organisation_chosen_by_hand_wins_and_other_domains_join_nothing(desk, acme):
    other = Organization.objects.create(name="Other")
    chosen = directory_services.create_end_user(desk.john.user, {"email": "x@acme.example", "organization": other.pk})
    assert chosen.organization == other
    loner = directory_services.create_end_user(desk.john.user, {"email": "y@elsewhere.example"})
    assert loner.organization is None
    # A sub-domain is another domain.
    assert directory_services.create_end_user(desk.john.user, {"email": "z@eu.acme.example"}).organization is None


def test_people_who_already_exist_are_not_moved_when_a_domain_is_added(desk):
    org = Organization.objects.create(name="Example")
    directory_services.update_organization(desk.admin, org, {"domains": "example.com"})
    desk.ken.refresh_from_db()
    assert desk.ken.organization is None


def test_a_domain_belongs_to_one_organisation_and_is_stored_lower_case(desk, acme):
    other = Organization.objects.create(name="Other")
    with pytest.raises(ValidationError) as refused:
        directory_services.update_organization(desk.admin, other, {"domains": "ACME.example, other.example"})
    assert "acme.example already belongs to Acme." in refused.value.message_dict["domains"]
    assert not other.domains.exists()  # nothing half-saved
    with pytest.raises(ValidationError):
        directory_services.update_organization(desk.admin, other, {"domains": "not a domain"})
    directory_services.update_organization(desk.admin, other, {"domains": "@Other.Example; other.example"})
    assert list(other.domains.values_list("domain", flat=True)) == ["other.example"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_existing_domain_and_notes_a_domain_two_organisations_claimed():
    executor = MigrationExecutor(connection)
    before = [("accounts", "0010_department_signature")]
    after = [("accounts", "0011_organisation_directory")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    OldOrg = old.get_model("accounts", "Organization")
    first = OldOrg.objects.create(name="First", domain=" First.Example ")
    OldOrg.objects.create(name="Second", domain="first.example")
    OldOrg.objects.create(name="Third", domain="third.example")
    OldOrg.objects.create(name="None", domain="")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    # Migrate the rest of the way so the other tests find the schema they expect.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    domains = dict(OrganizationDomain.objects.values_list("domain", "organization__name"))
    assert domains == {"first.example": "First", "third.example": "Third"}
    note = DirectoryNote.objects.get(organization__name="Second")
    assert "first.example" in note.body and "First" in note.body
    assert Organization.objects.get(pk=first.pk).domains.get().domain == "first.example"


def test_the_admin_refuses_a_domain_another_organisation_has_in_any_case(client, desk, acme):
    client.force_login(desk.admin)
    response = client.post(
        "/admin/accounts/organization/add/",
        {
            "name": "Copycat",
            "share_tickets": "",
            "domains-TOTAL_FORMS": "1",
            "domains-INITIAL_FORMS": "0",
            "domains-MIN_NUM_FORMS": "0",
            "domains-MAX_NUM_FORMS": "1000",
            "domains-0-domain": "ACME.Example",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Another organisation already has this email domain." in response.content.decode()
    assert not Organization.objects.filter(name="Copycat").exists()
