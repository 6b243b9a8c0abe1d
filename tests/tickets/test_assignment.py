"""Who has the ticket: assigning to an agent or a team, claiming, releasing."""

from __future__ import annotations

import pytest

from django.core.exceptions import PermissionDenied, ValidationError

from tessera.accounts.models import Agent, Membership, Team
from tessera.tickets import services
from tessera.tickets.models import Collaborator, EntryKind, EventKind, Referral, State, Ticket

from .helpers import entries, events, fresh, unchanged

# ---------------------------------------------------------------------------- assign


def test_agent_assigns_the_ticket_to_a_colleague(desk, ken_ticket):
    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.jane)

    assert ticket.assignee == desk.jane
    assert fresh(ticket).assignee == desk.jane
    assert ticket.version == ken_ticket.version + 1
    [event] = events(ticket, EventKind.ASSIGNED)
    assert (event.actor, event.before, event.after) == (desk.john.user, "", "Jane Doe")
    assert event.data == {"agent_id": desk.jane.pk}
    assert event.created_at == fresh(ticket).updated_at
    # John still works in Support, where the ticket is: no referral needed.
    assert not Referral.objects.exists()


def test_reassigning_records_who_had_it_before(desk, ken_ticket):
    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.jane)
    ticket = services.assign(desk.john.user, ticket, agent=desk.john)

    latest = events(ticket, EventKind.ASSIGNED)[-1]
    assert (latest.before, latest.after) == ("Jane Doe", "John Doe")


def test_assignment_can_explain_itself_in_an_internal_note(desk, ken_ticket):
    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.jane, note="Jane knows this model.")

    [note] = entries(ticket, EntryKind.NOTE)
    assert note.author == desk.john.user
    assert note.body_text == "Jane knows this model."
    assert ticket.version == ken_ticket.version + 1


def test_agent_assigns_the_ticket_to_a_team(desk, ken_ticket):
    ticket = services.assign(desk.john.user, ken_ticket, team=desk.ops)

    assert ticket.team == desk.ops and ticket.assignee is None
    [event] = events(ticket, EventKind.ASSIGNED)
    assert (event.before, event.after, event.data) == ("", "Infrastructure on-call", {"team_id": desk.ops.pk})


def test_handing_an_assigned_ticket_to_a_team_puts_it_in_the_team_pool_and_says_so(desk, ken_ticket):
    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.john)

    ticket = services.assign(desk.john.user, ticket, team=desk.ops)

    assert ticket.assignee is None and ticket.team == desk.ops
    released = events(ticket, EventKind.RELEASED)
    assert [(e.actor, e.before, e.after) for e in released] == [(desk.john.user, "John Doe", "")]


def test_agent_and_team_together_write_two_events_and_one_version(desk, ken_ticket):
    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.jane, team=desk.ops)

    assert (ticket.assignee, ticket.team) == (desk.jane, desk.ops)
    assert [e.after for e in events(ticket, EventKind.ASSIGNED)] == ["Jane Doe", "Infrastructure on-call"]
    assert ticket.version == ken_ticket.version + 1


def test_agent_who_only_had_the_ticket_keeps_following_it_after_handing_it_on(desk, ken_ticket):
    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.bill)  # Bill reaches it by assignment only

    ticket = services.assign(desk.bill.user, ticket, agent=desk.jane)

    assert Referral.objects.filter(ticket=ticket, agent=desk.bill).exists()


@pytest.mark.parametrize("who", ["bill", "olga", "ken", "kim", "copied kim"])
def test_only_agents_with_the_assign_permission_can_assign(desk, ken_ticket, kim, who):
    if who == "copied kim":
        Collaborator.objects.create(ticket=ken_ticket, user=kim)
    actor = {"bill": desk.bill.user, "olga": desk.olga.user, "ken": desk.ken}.get(who, kim)

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.assign(actor, ken_ticket, agent=desk.jane)


def test_a_closed_ticket_cannot_be_reassigned(desk, ken_ticket, set_state):
    ticket = set_state(ken_ticket, State.CLOSED)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.assign(desk.john.user, ticket, agent=desk.jane)


def test_assignment_needs_an_agent_or_a_team(desk, ken_ticket):
    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.assign(desk.john.user, ken_ticket)

    assert exc.value.message_dict == {"agent": ["Choose an agent or a team."]}


def test_cannot_assign_to_a_disabled_agent(desk, ken_ticket):
    Agent.objects.filter(pk=desk.jane.pk).update(is_active=False)
    desk.jane.refresh_from_db()

    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.assign(desk.john.user, ken_ticket, agent=desk.jane)

    assert exc.value.message_dict == {"agent": ["Jane Doe is no longer an active agent."]}


def test_cannot_assign_to_an_agent_whose_account_is_disabled(desk, ken_ticket):
    desk.jane.user.is_active = False
    desk.jane.user.save()

    with pytest.raises(ValidationError), unchanged(ken_ticket):
        services.assign(desk.john.user, ken_ticket, agent=desk.jane)


def test_cannot_assign_to_an_agent_who_is_away(desk, ken_ticket):
    Agent.objects.filter(pk=desk.jane.pk).update(is_available=False)
    desk.jane.refresh_from_db()

    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.assign(desk.john.user, ken_ticket, agent=desk.jane)

    assert exc.value.message_dict == {"agent": ["Jane Doe is not available for assignment."]}


def test_cannot_assign_to_a_disbanded_team(desk, ken_ticket):
    Team.objects.filter(pk=desk.ops.pk).update(is_active=False)
    desk.ops.refresh_from_db()

    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.assign(desk.john.user, ken_ticket, team=desk.ops)

    assert "team" in exc.value.message_dict


def test_assigning_the_same_way_twice_is_refused_not_silently_ignored(desk, ken_ticket):
    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.jane, team=desk.ops, note="First.")

    with pytest.raises(ValidationError) as exc, unchanged(ticket):
        services.assign(desk.john.user, ticket, agent=desk.jane, note="Again.")
    assert exc.value.message_dict == {"agent": ["The ticket is already assigned that way."]}

    with pytest.raises(ValidationError), unchanged(ticket):
        services.assign(desk.john.user, ticket, team=desk.ops)


def test_oversized_assignment_note_is_refused(desk, ken_ticket, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_MESSAGE_LENGTH": 10}

    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.assign(desk.john.user, ken_ticket, agent=desk.jane, note="x" * 11)

    assert "note" in exc.value.message_dict


def test_assignment_from_a_stale_page_is_refused(desk, ken_ticket):
    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.jane)

    with pytest.raises(services.StaleTicket), unchanged(ticket):
        services.assign(desk.john.user, ticket, agent=desk.john, expected_version=ken_ticket.version)


def test_a_failure_half_way_through_an_assignment_leaves_no_event(desk, ken_ticket, fail_midway):
    with pytest.raises(fail_midway), unchanged(ken_ticket):
        services.assign(desk.john.user, ken_ticket, agent=desk.jane, note="Over to you.")


# ---------------------------------------------------------------------------- claim


def test_agent_claims_an_unassigned_ticket(desk, ken_ticket):
    ticket = services.claim(desk.john.user, ken_ticket, expected_version=ken_ticket.version)

    assert ticket.assignee == desk.john
    assert ticket.version == ken_ticket.version + 1
    [event] = events(ticket, EventKind.CLAIMED)
    assert (event.actor, event.before, event.after) == (desk.john.user, "", "John Doe")


def test_team_member_claims_a_ticket_from_the_team_pool(desk, ken_ticket):
    ticket = services.assign(desk.john.user, ken_ticket, team=desk.ops)

    ticket = services.claim(desk.jane.user, ticket)

    assert (ticket.assignee, ticket.team) == (desk.jane, desk.ops)


def test_claiming_a_ticket_someone_already_has_says_who_has_it(desk, ken_ticket):
    page_copy = fresh(ken_ticket)  # John's screen, loaded while the ticket was unassigned
    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.jane)

    for copy in (page_copy, ticket):
        with pytest.raises(ValidationError) as exc, unchanged(ticket):
            services.claim(desk.john.user, copy)
        assert exc.value.messages == ["Jane Doe already has this ticket. Ask them, or reassign it."]


@pytest.mark.parametrize("who", ["bill", "olga", "ken", "kim"])
def test_claim_is_refused_to_anyone_who_does_not_work_the_ticket(desk, ken_ticket, kim, who):
    actor = {"bill": desk.bill.user, "olga": desk.olga.user, "ken": desk.ken, "kim": kim}[who]

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.claim(actor, ken_ticket)


def test_observer_is_refused_a_claim_even_when_someone_already_has_the_ticket(desk, ken_ticket):
    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.jane)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.claim(desk.olga.user, ticket)


@pytest.mark.parametrize("state", [State.RESOLVED, State.CLOSED, State.ARCHIVED])
def test_only_active_tickets_can_be_claimed(desk, ken_ticket, set_state, state):
    ticket = set_state(ken_ticket, state)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.claim(desk.john.user, ticket)


def test_claim_from_a_stale_page_is_refused(desk, ken_ticket):
    services.add_note(desk.olga.user, ken_ticket, note="Customer called again.")
    ticket = fresh(ken_ticket)

    with pytest.raises(services.StaleTicket), unchanged(ticket):
        services.claim(desk.john.user, ticket, expected_version=ken_ticket.version)


# ---------------------------------------------------------------------------- release


def test_agent_releases_their_ticket_back_to_the_pool(desk, ken_ticket):
    ticket = services.claim(desk.john.user, ken_ticket)

    ticket = services.release(desk.john.user, ticket, expected_version=ticket.version)

    assert ticket.assignee is None
    assert ticket.version == ken_ticket.version + 2
    [event] = events(ticket, EventKind.RELEASED)
    assert (event.actor, event.before, event.after) == (desk.john.user, "John Doe", "")


def test_assignee_without_the_assign_permission_may_still_release_their_own_ticket(desk, ken_ticket, superagent):
    ticket = services.assign(superagent, ken_ticket, agent=desk.olga)

    ticket = services.release(desk.olga.user, ticket)

    assert ticket.assignee is None


def test_colleague_with_the_assign_permission_releases_someone_elses_ticket(desk, ken_ticket):
    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.jane)

    assert services.release(desk.john.user, ticket).assignee is None


@pytest.mark.parametrize("who", ["bill", "olga", "ken", "kim"])
def test_release_is_refused_to_those_without_the_right(desk, ken_ticket, kim, who):
    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.jane)
    actor = {"bill": desk.bill.user, "olga": desk.olga.user, "ken": desk.ken, "kim": kim}[who]

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.release(actor, ticket)


def test_customer_asking_to_release_an_unassigned_ticket_is_refused_not_told_nobody_has_it(desk, ken_ticket):
    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.release(desk.ken, ken_ticket)


def test_releasing_an_unassigned_ticket_says_nobody_has_it(desk, ken_ticket):
    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.release(desk.john.user, ken_ticket)

    assert exc.value.messages == ["Nobody is assigned to this ticket."]


def test_a_closed_ticket_stays_with_its_agent(desk, ken_ticket, set_state):
    services.claim(desk.john.user, ken_ticket)
    ticket = set_state(ken_ticket, State.CLOSED)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.release(desk.john.user, ticket)


def test_release_from_a_stale_page_is_refused(desk, ken_ticket):
    ticket = services.claim(desk.john.user, ken_ticket)

    with pytest.raises(services.StaleTicket), unchanged(ticket):
        services.release(desk.john.user, ticket, expected_version=ken_ticket.version)


def test_membership_role_decides_assignment_in_that_department(desk, ken_ticket):
    # Jane joins Support as an observer: there she may look, not assign.
    from tessera.accounts.models import Role

    Membership.objects.create(agent=desk.jane, department=desk.support, role=Role.objects.get(name="Observer"))
    desk.jane.refresh_from_db()

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.assign(desk.jane.user, ken_ticket, agent=desk.jane)


def test_a_failure_half_way_through_a_claim_or_a_release_leaves_no_event(desk, ken_ticket, kim, fail_midway):
    with pytest.raises(fail_midway), unchanged(ken_ticket):
        services.claim(desk.john.user, ken_ticket)

    Ticket.objects.filter(pk=ken_ticket.pk).update(assignee=desk.jane)
    assigned = fresh(ken_ticket)
    with pytest.raises(fail_midway), unchanged(assigned):
        services.release(desk.john.user, assigned)
