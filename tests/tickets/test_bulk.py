"""One change to many tickets: each goes through its own service call, permission check and Events."""

from __future__ import annotations

import pytest

from django.core.exceptions import ValidationError
from django.db import DatabaseError

from tessera.accounts.models import Agent, Membership, Role, User
from tessera.tickets import services
from tessera.tickets.bulk import BulkResult, Refusal, bulk_apply
from tessera.tickets.models import EventKind, Referral, State

from .helpers import events, fresh, unchanged


def open_many(desk, n: int, *, topic=None) -> list:
    return [
        services.open_ticket(
            desk.ken, requester=desk.ken, subject=f"Printer {i}", message=f"Jam {i}.", topic=topic or desk.general
        )
        for i in range(n)
    ]


def numbers(tickets) -> list[int]:
    return [t.number for t in tickets]


@pytest.fixture
def three(desk):
    return open_many(desk, 3)


@pytest.fixture
def followed(desk):
    """A System Administration ticket John only follows (a referral): he sees it but cannot assign it."""
    [ticket] = open_many(desk, 1, topic=desk.outage)
    Referral.objects.create(ticket=ticket, agent=desk.john)
    return fresh(ticket)


def test_bulk_assign_to_an_agent_assigns_each_ticket_with_its_own_event(desk, three):
    result = bulk_apply(desk.john.user, numbers(three), "assign", agent=desk.jane)

    assert result == BulkResult("assign", done=numbers(three), refused=[])
    for ticket in three:
        assert fresh(ticket).assignee == desk.jane
        [event] = events(ticket, EventKind.ASSIGNED)
        assert (event.actor, event.after) == (desk.john.user, "Jane Doe")


def test_bulk_assign_to_a_team(desk, three):
    result = bulk_apply(desk.john.user, numbers(three), "assign", team=desk.ops)

    assert result.done == numbers(three)
    assert {fresh(t).team_id for t in three} == {desk.ops.pk}


def test_bulk_transfer_moves_every_ticket_and_john_keeps_following_them(desk, three):
    result = bulk_apply(desk.john.user, numbers(three), "transfer", department=desk.sysadmin)

    assert result.done == numbers(three)
    for ticket in three:
        assert fresh(ticket).department == desk.sysadmin
        assert len(events(ticket, EventKind.TRANSFERRED)) == 1
    assert Referral.objects.filter(agent=desk.john).count() == 3


def test_bulk_priority_change(desk, three):
    result = bulk_apply(desk.john.user, numbers(three), "priority", priority=desk.sev_a)

    assert result.done == numbers(three)
    for ticket in three:
        assert fresh(ticket).priority == desk.sev_a
        [event] = events(ticket, EventKind.PRIORITY)
        assert (event.before, event.after) == ("Sev-C (Normal)", "Sev-A (Emergency)")


def test_bulk_status_change_resolves_every_ticket(desk, three):
    result = bulk_apply(desk.john.user, numbers(three), "status", status=desk.resolved)

    assert result.done == numbers(three)
    assert {fresh(t).state for t in three} == {State.RESOLVED}
    assert all(len(events(t, EventKind.STATUS)) == 1 for t in three)


def test_a_ticket_john_cannot_assign_is_refused_and_the_others_go_through(desk, three, followed):
    selection = [three[0].number, followed.number, three[1].number, three[2].number]

    with unchanged(followed):
        result = bulk_apply(desk.john.user, selection, "assign", agent=desk.jane)

    assert result.done == numbers(three)
    assert result.refused == [Refusal(followed.number, "You cannot assign this ticket.")]
    assert all(fresh(t).assignee == desk.jane for t in three)


def test_tickets_john_cannot_see_are_refused_as_if_they_did_not_exist(desk, three):
    [billing] = open_many(desk, 1)
    services.transfer(desk.john.user, billing, department=desk.billing)
    Referral.objects.filter(ticket=billing).delete()  # John no longer follows it

    result = bulk_apply(desk.john.user, [billing.number, 999999, three[0].number], "priority", priority=desk.sev_b)

    assert result.done == [three[0].number]
    assert result.refused == [
        Refusal(billing.number, f"Ticket #{billing.number} does not exist or is not in your departments."),
        Refusal(999999, "Ticket #999999 does not exist or is not in your departments."),
    ]


def test_a_ticket_that_already_has_the_value_is_refused_with_the_reason(desk, three):
    services.set_priority(desk.john.user, three[1], priority=desk.sev_a)

    result = bulk_apply(desk.john.user, numbers(three), "priority", priority=desk.sev_a)

    assert result.done == [three[0].number, three[2].number]
    assert result.refused == [Refusal(three[1].number, "The priority is already Sev-A (Emergency).")]


def test_a_database_failure_on_one_ticket_undoes_only_that_ticket(desk, three, monkeypatch):
    real_assign = services.assign

    def assign(actor, ticket, **kwargs):
        if ticket.number == three[1].number:
            real_assign(actor, ticket, **kwargs)  # writes its rows, then the database fails
            raise DatabaseError("deadlock detected")
        return real_assign(actor, ticket, **kwargs)

    monkeypatch.setattr(services, "assign", assign)

    with unchanged(three[1]):
        result = bulk_apply(desk.john.user, numbers(three), "assign", agent=desk.jane)

    assert result.done == [three[0].number, three[2].number]
    assert result.refused == [Refusal(three[1].number, "It could not be saved. Try again.")]
    assert fresh(three[0]).assignee == desk.jane and fresh(three[2]).assignee == desk.jane


def test_a_ticket_selected_twice_is_changed_once(desk, three):
    result = bulk_apply(desk.john.user, [three[0].number, three[0].number], "priority", priority=desk.sev_a)
    assert result.done == [three[0].number]
    assert len(events(three[0], EventKind.PRIORITY)) == 1


@pytest.mark.parametrize(
    "selection, action, params, message",
    [
        ([], "assign", {}, "Select at least one ticket first."),
        ([1], "delete", {}, "Choose a bulk action."),
        ([1], "assign", {}, "Choose the agent or team to assign the tickets to."),
        ([1], "transfer", {}, "Choose the department to transfer the tickets to."),
        ([1], "priority", {}, "Choose the new priority."),
        ([1], "status", {}, "Choose the new status."),
        ([1], "merge", {}, "Select two or more tickets to merge."),
    ],
)
def test_a_request_that_cannot_apply_to_any_ticket_is_refused_whole(desk, three, selection, action, params, message):
    selection = [three[0].number for _n in selection]
    with pytest.raises(ValidationError) as exc, unchanged(three[0]):
        bulk_apply(desk.john.user, selection, action, **params)
    assert exc.value.messages == [message]


# ---------------------------------------------------------------------------- merge


@pytest.fixture
def mia(desk):
    user = User.objects.create_user("mia@example.com", desk.password, name="Mia Manager")
    agent = Agent.objects.create(user=user)
    Membership.objects.create(
        agent=agent, department=desk.support, role=Role.objects.get(name="Manager"), is_primary=True
    )
    return user


def test_bulk_merge_folds_the_others_into_the_first_selected(desk, mia, three):
    target, *sources = three

    result = bulk_apply(mia, [target.number, *numbers(sources)], "merge")

    assert result == BulkResult("merge", done=numbers(sources), refused=[], target=target.number)
    assert all(fresh(s).merged_into_id == target.pk for s in sources)
    assert len(events(target, EventKind.MERGED)) == 2
    assert all(len(events(s, EventKind.MERGED)) == 1 for s in sources)


def test_bulk_merge_refuses_the_ticket_mia_may_not_merge_and_merges_the_rest(desk, mia, three):
    [outage] = open_many(desk, 1, topic=desk.outage)
    Referral.objects.create(ticket=outage, agent=mia.agent)

    result = bulk_apply(mia, [three[0].number, outage.number, three[1].number], "merge")

    assert result.done == [three[1].number]
    assert result.refused == [Refusal(outage.number, f"You cannot merge #{outage.number}.")]
    assert fresh(outage).merged_into_id is None


def test_an_agent_role_cannot_bulk_merge(desk, three):
    result = bulk_apply(desk.john.user, numbers(three), "merge")

    assert result.done == []
    reason = f"You cannot merge tickets into #{three[0].number}."
    assert result.refused == [Refusal(three[1].number, reason), Refusal(three[2].number, reason)]


def test_bulk_merge_into_a_ticket_mia_cannot_see_merges_nothing(desk, mia, three):
    result = bulk_apply(mia, [424242, three[0].number], "merge")

    assert result.done == []
    assert result.refused == [
        Refusal(424242, "Ticket #424242 does not exist or is not in your departments."),
        Refusal(three[0].number, "Not merged: #424242 cannot be opened."),
    ]
