"""Archiving is for the agents who work a ticket, and an administrator can always undo it.

The probe: Bill (Billing) requested a Support ticket and archived it through /staff/bulk/; then
neither Support nor a superuser could reopen it."""

from __future__ import annotations

import pytest

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from tessera.accounts.models import Agent, Membership
from tessera.tickets import services
from tessera.tickets.bulk import bulk_apply
from tessera.tickets.models import State, Status, Ticket

from ..staff.conftest import flashes


@pytest.fixture
def archived(desk) -> Status:
    return Status.objects.get(state=State.ARCHIVED)


@pytest.fixture
def bills_ticket(desk) -> Ticket:
    """Bill (a Billing agent) asked Support for help, as an end user."""
    return services.open_ticket(
        desk.bill.user, requester=desk.bill.user, subject="Laptop will not boot", message="Beeps.", topic=desk.general
    )


@pytest.fixture
def admin_agent(desk) -> Agent:
    """Ada Admin (a superuser) works in the workspace too, with a membership in Billing only."""
    agent = Agent.objects.create(user=desk.admin)
    Membership.objects.create(
        agent=agent, department=desk.billing, role=desk.bill.memberships.get().role, is_primary=True
    )
    return agent


def _state(ticket: Ticket) -> str:
    return Ticket.objects.get(pk=ticket.pk).state


def test_a_requester_agent_cannot_archive_another_departments_ticket_through_the_bulk_bar(
    client, desk, bills_ticket, archived
):
    client.force_login(desk.bill.user)
    response = client.post(
        reverse("staff:bulk"),
        {"tickets": [bills_ticket.number], "bulk-action": "status", "bulk-status": archived.pk, "bulk-next": "/staff/"},
    )
    assert _state(bills_ticket) == State.OPEN
    assert flashes(response) == [
        f"Updated 0 tickets. 1 refused: #{bills_ticket.number} — "
        f"Ticket #{bills_ticket.number} does not exist or is not in your departments."
    ]


@pytest.mark.parametrize("action, params", [("priority", "sev_a"), ("status", "pending")])
def test_bulk_admits_no_ticket_the_agent_only_requested(desk, bills_ticket, action, params):
    result = bulk_apply(desk.bill.user, [bills_ticket.number], action, **{action: getattr(desk, params)})
    assert result.done == [] and [r.number for r in result.refused] == [bills_ticket.number]
    fresh = Ticket.objects.get(pk=bills_ticket.pk)
    assert (fresh.state, fresh.priority) == (State.OPEN, bills_ticket.priority)


def test_bulk_still_works_the_handling_departments_tickets(desk, bills_ticket):
    result = bulk_apply(desk.john.user, [bills_ticket.number], "status", status=desk.pending)
    assert result.done == [bills_ticket.number] and _state(bills_ticket) == State.PENDING


@pytest.mark.parametrize("who", ["bill", "ken"])
def test_an_end_user_cannot_set_an_archived_status(desk, who, archived):
    person = getattr(desk, who)
    user = getattr(person, "user", person)
    ticket = services.open_ticket(user, requester=user, subject="Printer", message="Jams.", topic=desk.general)
    with pytest.raises(PermissionDenied):
        services.set_status(user, ticket, status=archived)
    assert _state(ticket) == State.OPEN


def test_closing_on_the_portal_closes_and_never_archives(desk, ken_ticket, archived):
    # Even with Archived first in the list and marked default for its state.
    Status.objects.filter(pk=archived.pk).update(order=0, is_default=True)
    services.close_by_user(desk.ken, ken_ticket)
    assert _state(ken_ticket) == State.CLOSED


def test_the_handling_department_still_archives(desk, ken_ticket, archived):
    services.set_status(desk.john.user, ken_ticket, status=archived)
    assert _state(ken_ticket) == State.ARCHIVED


def test_an_administrator_can_bring_back_an_archived_ticket(desk, ken_ticket, archived, admin_agent):
    services.set_status(desk.john.user, ken_ticket, status=archived)
    with pytest.raises(PermissionDenied):
        services.set_status(desk.john.user, ken_ticket, status=desk.open)  # the department cannot

    services.set_status(desk.admin, Ticket.objects.get(pk=ken_ticket.pk), status=desk.open)

    assert _state(ken_ticket) == State.OPEN


def test_the_administrators_ticket_page_offers_the_way_back(client, desk, ken_ticket, archived, admin_agent):
    services.set_status(desk.john.user, ken_ticket, status=archived)
    client.force_login(desk.admin)
    ken_ticket.refresh_from_db()
    response = client.post(
        reverse("staff:ticket_property", args=[ken_ticket.number, "status"]),
        {"props-status": desk.open.pk, "props-version": ken_ticket.version},
    )
    assert response.status_code == 302
    assert _state(ken_ticket) == State.OPEN
