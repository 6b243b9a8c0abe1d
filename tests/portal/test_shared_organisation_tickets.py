"""An organisation that shares tickets among its members lets each member read and answer a
colleague's ticket on the Help Center (policy.shares_organisation_ticket); nobody else gets in,
and closing stays with the requester."""

from __future__ import annotations

import pytest

from django.urls import reverse

from tessera.accounts.models import Organization, User
from tessera.tickets import policy, services
from tessera.tickets.models import EntryKind, State
from tessera.tickets.policy import Action


@pytest.fixture
def acme_ticket(desk):
    """Ken's ticket, opened while he is a member of Acme, which shares tickets."""
    acme = Organization.objects.create(name="Acme", share_tickets=True)
    desk.ken.organization = acme
    desk.ken.save()
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="On page two.", topic=desk.general
    )
    assert ticket.organization == acme
    return ticket


def _person(email: str, organization: Organization | None, desk) -> User:
    return User.objects.create_user(email, desk.password, name=email.split("@")[0].title(), organization=organization)


def test_a_colleague_reads_and_answers_a_shared_ticket_on_the_help_center(client, desk, acme_ticket):
    lena = _person("lena@acme.example", acme_ticket.organization, desk)
    client.force_login(lena)
    url = reverse("portal:ticket", args=[acme_ticket.number])

    page = client.get(url)
    assert page.status_code == 200 and b"Printer jams" in page.content

    answered = client.post(url, {"message": "Same here, on the second floor.", "version": acme_ticket.version})
    assert answered.status_code == 302
    entry = acme_ticket.entries.order_by("-id").first()
    assert entry.kind == EntryKind.MESSAGE and entry.author == lena
    # Closing is the requester's.
    acme_ticket.refresh_from_db()
    assert not policy.can(lena, Action.CLOSE, acme_ticket)
    assert acme_ticket.state != State.CLOSED


@pytest.mark.parametrize(
    "who", ["member of a non-sharing organisation", "member of another organisation", "no organisation"]
)
def test_anyone_outside_a_sharing_organisation_gets_not_found(client, desk, acme_ticket, who):
    if who == "member of a non-sharing organisation":
        acme = acme_ticket.organization
        acme.share_tickets = False
        acme.save()
        outsider = _person("lena@acme.example", acme, desk)
    elif who == "member of another organisation":
        outsider = _person("otto@other.example", Organization.objects.create(name="Other", share_tickets=True), desk)
    else:
        outsider = _person("nina@example.net", None, desk)
    client.force_login(outsider)
    url = reverse("portal:ticket", args=[acme_ticket.number])

    assert client.get(url).status_code == 404
    refused = client.post(url, {"message": "Let me in.", "version": acme_ticket.version})
    assert refused.status_code == 404
    assert not acme_ticket.entries.filter(author=outsider).exists()


def test_the_account_manager_grants_nothing(desk, acme_ticket):
    """The organisation's account manager is information: Bill (Billing) still cannot see a
    Support ticket of the organisation he manages."""
    acme = acme_ticket.organization
    acme.account_manager = desk.bill
    acme.save()
    assert not policy.can(desk.bill.user, Action.VIEW, acme_ticket)
