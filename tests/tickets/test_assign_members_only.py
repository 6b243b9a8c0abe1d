"""Restricting assignment to a department's members (osTicket's "restrict assignment to members"):
the rule is decided by policy.may_be_assigned, enforced by the assign and transfer services, and
inherited by bulk assignment."""

from __future__ import annotations

import pytest

from django.core.exceptions import ValidationError

from tessera.accounts.models import Department
from tessera.tickets import policy, services
from tessera.tickets.bulk import BulkResult, Refusal, bulk_apply
from tessera.tickets.models import Ticket

from .helpers import fresh, unchanged


def restrict(*departments: Department) -> None:
    for department in departments:
        department.assign_members_only = True
        department.save(update_fields=["assign_members_only"])


def test_new_departments_allow_any_agent_as_before(desk, ken_ticket):
    assert Department.objects.create(name="Facilities").assign_members_only is False
    assert policy.may_be_assigned(desk.jane, ken_ticket)  # Jane works in System Administration


def test_a_restricted_department_refuses_an_outsider_on_the_agent_field(desk, ken_ticket):
    restrict(desk.support)

    with unchanged(ken_ticket), pytest.raises(ValidationError) as refused:
        services.assign(desk.john.user, Ticket.objects.get(pk=ken_ticket.pk), agent=desk.jane)

    assert refused.value.message_dict == {
        "agent": [
            "Jane Doe is not a member of Support, which assigns its tickets only to its own agents. "
            "Choose one of them, or a team Jane Doe belongs to."
        ]
    }


def test_a_restricted_department_accepts_its_own_members(desk, ken_ticket):
    restrict(desk.support)

    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.olga)

    assert fresh(ticket).assignee == desk.olga


def test_a_member_of_the_tickets_team_may_be_assigned(desk, ken_ticket):
    restrict(desk.support)
    ticket = services.assign(desk.john.user, ken_ticket, team=desk.ops)

    ticket = services.assign(desk.john.user, ticket, agent=desk.jane)

    assert (fresh(ticket).assignee, fresh(ticket).team) == (desk.jane, desk.ops)


def test_assigning_the_team_and_its_member_together_is_allowed(desk, ken_ticket):
    restrict(desk.support)

    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.jane, team=desk.ops)

    assert (fresh(ticket).assignee, fresh(ticket).team) == (desk.jane, desk.ops)


def test_a_superuser_cannot_assign_an_outsider_either(desk, ken_ticket, superagent):
    restrict(desk.support)

    with unchanged(ken_ticket), pytest.raises(ValidationError) as refused:
        services.assign(superagent, ken_ticket, agent=desk.bill)

    assert "Bill Payne is not a member of Support" in refused.value.message_dict["agent"][0]


def test_transfer_checks_the_agent_against_the_department_it_goes_to(desk, ken_ticket):
    restrict(desk.sysadmin)

    with unchanged(ken_ticket), pytest.raises(ValidationError) as refused:
        services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin, agent=desk.john)

    assert "John Doe is not a member of System Administration" in refused.value.message_dict["agent"][0]
    ticket = services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin, agent=desk.jane)
    assert (fresh(ticket).department, fresh(ticket).assignee) == (desk.sysadmin, desk.jane)


def test_transfer_to_an_unrestricted_department_takes_any_agent(desk, ken_ticket):
    restrict(desk.support)  # where the ticket is now does not matter

    ticket = services.transfer(desk.john.user, ken_ticket, department=desk.billing, agent=desk.jane)

    assert (fresh(ticket).department, fresh(ticket).assignee) == (desk.billing, desk.jane)


def test_bulk_assign_refuses_where_the_agent_is_an_outsider_and_does_the_rest(desk, ken_ticket):
    in_team = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Server room", message="Too hot.", topic=desk.general
    )
    services.assign(desk.john.user, in_team, team=desk.ops)
    restrict(desk.support)

    result = bulk_apply(desk.john.user, [ken_ticket.number, in_team.number], "assign", agent=desk.jane)

    assert result == BulkResult(
        "assign",
        done=[in_team.number],
        refused=[
            Refusal(
                ken_ticket.number,
                "Jane Doe is not a member of Support, which assigns its tickets only to its own agents. "
                "Choose one of them, or a team Jane Doe belongs to.",
            )
        ],
    )
    assert fresh(ken_ticket).assignee is None
    assert fresh(in_team).assignee == desk.jane
