"""Departments and teams that hand out tickets by themselves: in turn (round robin) or to whoever
has the fewest open tickets, passing over agents who are away, inactive or at the limit."""

from __future__ import annotations

import pytest

from tessera.accounts.models import Agent, AssignmentMode, Membership, Role, User
from tessera.tickets import services
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import EventKind
from tests.tickets.helpers import events, fresh


@pytest.fixture
def round_robin(desk):
    desk.support.assignment_mode = AssignmentMode.ROUND_ROBIN
    desk.support.save()
    return desk.support


@pytest.fixture
def fewest_open(desk):
    desk.support.assignment_mode = AssignmentMode.FEWEST_OPEN
    desk.support.save()
    return desk.support


def test_round_robin_hands_tickets_out_in_turn_and_starts_again(desk, crew, round_robin, open_in):
    order = sorted([desk.john, crew.amy, crew.ben, crew.cat], key=lambda a: a.pk)  # Olga only observes

    got = [open_in().assignee for _ in range(8)]

    assert got == order + order


def test_round_robin_is_fair_over_many_tickets(desk, crew, round_robin, open_in):
    got = [open_in().assignee_id for _ in range(12)]

    assert sorted(got.count(a.pk) for a in (desk.john, crew.amy, crew.ben, crew.cat)) == [3, 3, 3, 3]
    assert desk.olga.pk not in got


def test_the_automatic_assignment_is_on_the_timeline_as_the_systems(desk, crew, round_robin, open_in):
    ticket = open_in()

    assigned = events(ticket, EventKind.ASSIGNED)
    assert len(assigned) == 1
    assert assigned[0].actor is None
    assert assigned[0].data["auto"] == "round_robin"
    assert event_sentence(assigned[0]) == f"Assigned to {fresh(ticket).assignee.name} automatically (round robin)"


def test_fewest_open_gives_the_ticket_to_the_least_busy_agent(desk, crew, fewest_open, open_in):
    desk.support.assignment_mode = AssignmentMode.MANUAL
    desk.support.save()
    busy = [open_in() for _ in range(5)]
    for ticket, agent in zip(busy, [desk.john, desk.john, crew.amy, crew.amy, crew.cat], strict=True):
        services.assign(desk.john.user, ticket, agent=agent)
    desk.support.assignment_mode = AssignmentMode.FEWEST_OPEN
    desk.support.save()

    first = open_in()
    second = open_in()

    assert fresh(first).assignee == crew.ben  # nobody's ticket yet
    assert fresh(second).assignee == crew.cat  # one each now for Ben and Cat; Cat comes before Amy (2)
    assert event_sentence(events(first, EventKind.ASSIGNED)[-1]).endswith("automatically (fewest open tickets)")


def test_closed_tickets_do_not_count_as_open(desk, crew, fewest_open, open_in):
    desk.support.assignment_mode = AssignmentMode.MANUAL
    desk.support.save()
    for agent in (desk.john, crew.amy, crew.ben):
        services.assign(desk.john.user, open_in(), agent=agent)
    done = open_in()
    services.assign(desk.john.user, done, agent=crew.cat)
    services.set_status(desk.john.user, done, status=desk.closed)
    desk.support.assignment_mode = AssignmentMode.FEWEST_OPEN
    desk.support.save()

    assert open_in().assignee == crew.cat


def test_agents_away_inactive_or_disabled_are_passed_over(desk, crew, round_robin, open_in):
    Agent.objects.filter(pk=crew.amy.pk).update(is_available=False)  # the profile's vacation switch
    Agent.objects.filter(pk=crew.ben.pk).update(is_active=False)
    User.objects.filter(pk=crew.cat.user_id).update(is_active=False)

    got = {open_in().assignee_id for _ in range(4)}

    assert got == {desk.john.pk}


def test_agents_at_the_departments_limit_are_passed_over(desk, crew, fewest_open, open_in):
    desk.support.open_ticket_limit = 1
    desk.support.save()

    got = [open_in().assignee_id for _ in range(5)]

    assert sorted(got[:4]) == sorted(a.pk for a in (desk.john, crew.amy, crew.ben, crew.cat))
    assert got[4] is None  # everyone is at the limit: the ticket waits in the queue


def test_nobody_eligible_leaves_the_ticket_unassigned_in_the_queue(desk, round_robin, open_in):
    Agent.objects.filter(pk=desk.john.pk).update(is_available=False)

    ticket = open_in()

    assert fresh(ticket).assignee is None
    assert events(ticket, EventKind.ASSIGNED) == []


def test_manual_departments_keep_todays_behaviour(desk, crew, open_in):
    assert desk.support.assignment_mode == AssignmentMode.MANUAL

    ticket = open_in()

    assert fresh(ticket).assignee is None
    assert events(ticket, EventKind.ASSIGNED) == []


def test_a_ticket_transferred_without_an_agent_is_assigned_in_its_new_department(desk, crew, open_in):
    desk.sysadmin.assignment_mode = AssignmentMode.ROUND_ROBIN
    desk.sysadmin.save()
    ticket = open_in()

    moved = services.transfer(desk.john.user, ticket, department=desk.sysadmin)

    assert fresh(moved).assignee == desk.jane
    assert event_sentence(events(ticket, EventKind.ASSIGNED)[-1]) == "Assigned to Jane Doe automatically (round robin)"


def test_a_transfer_straight_to_an_agent_is_left_as_chosen(desk, crew, open_in):
    desk.sysadmin.assignment_mode = AssignmentMode.ROUND_ROBIN
    desk.sysadmin.save()
    role = Role.objects.get(name="Agent")
    Membership.objects.create(agent=crew.amy, department=desk.sysadmin, role=role)
    ticket = open_in()

    services.transfer(desk.john.user, ticket, department=desk.sysadmin, agent=crew.amy)

    assert fresh(ticket).assignee == crew.amy
    assert [e.data.get("auto") for e in events(ticket, EventKind.ASSIGNED)] == [None]


def test_a_team_on_round_robin_hands_its_tickets_to_its_members(desk, crew, open_in):
    desk.ops.members.add(crew.amy)
    desk.ops.assignment_mode = AssignmentMode.ROUND_ROBIN
    desk.ops.save()
    tickets = [open_in() for _ in range(2)]

    for ticket in tickets:
        services.transfer(desk.john.user, ticket, department=desk.sysadmin, team=desk.ops)

    assert sorted(fresh(t).assignee_id for t in tickets) == sorted([desk.jane.pk, crew.amy.pk])


def test_the_assigned_agent_is_told_by_mail(desk, crew, round_robin, open_in, smtp, committed):
    ticket = committed(open_in)
    agent = fresh(ticket).assignee

    mine = smtp.wait_for(lambda m: agent.user.email in m["To"])
    assert len(mine) == 1
    assert "Assigned to you" in mine[0]["Subject"]


def test_the_profiles_vacation_switch_takes_an_agent_out_of_the_turn(client, desk, crew, round_robin, open_in):
    client.force_login(desk.john.user)
    page = client.get("/staff/profile/").content.decode()
    assert "on vacation" in page

    response = client.post(
        "/staff/profile/", {"name": "John Doe", "time_zone": "", "signature": "", "density": "comfortable"}
    )  # "Available for assignment" left unticked

    assert response.status_code == 302
    assert desk.john.pk not in {open_in().assignee_id for _ in range(6)}


@pytest.fixture
def ops_team(desk, crew):
    """The on-call team: Jane and Amy."""
    desk.ops.members.add(crew.amy)
    return desk.ops


@pytest.mark.parametrize("mode", [AssignmentMode.ROUND_ROBIN, AssignmentMode.FEWEST_OPEN])
def test_assigning_a_ticket_to_a_team_hands_it_to_one_of_its_members(desk, crew, ops_team, open_in, mode):
    ops_team.assignment_mode = mode
    ops_team.save()
    tickets = [open_in() for _ in range(2)]

    for ticket in tickets:
        services.assign(desk.john.user, ticket, team=ops_team)

    assert sorted(fresh(t).assignee_id for t in tickets) == sorted([desk.jane.pk, crew.amy.pk])
    assert all(fresh(t).team == ops_team for t in tickets)
    assert [e.data.get("auto") for e in events(tickets[0], EventKind.ASSIGNED)] == [None, mode]


def test_assigning_to_a_fewest_open_team_picks_its_least_busy_member(desk, crew, ops_team, open_in):
    services.assign(desk.john.user, open_in(), agent=desk.jane)  # Jane has one already
    ops_team.assignment_mode = AssignmentMode.FEWEST_OPEN
    ops_team.save()
    ticket = open_in()

    services.assign(desk.john.user, ticket, team=ops_team)

    assert fresh(ticket).assignee == crew.amy


def test_assigning_to_a_team_nobody_can_take_leaves_it_in_the_teams_pool(desk, crew, ops_team, open_in):
    ops_team.assignment_mode = AssignmentMode.ROUND_ROBIN
    ops_team.save()
    Agent.objects.filter(pk__in=[desk.jane.pk, crew.amy.pk]).update(is_available=False)
    ticket = open_in()

    services.assign(desk.john.user, ticket, team=ops_team)

    assert fresh(ticket).team == ops_team
    assert fresh(ticket).assignee is None


def test_assigning_to_a_manual_team_leaves_the_choice_to_people(desk, crew, ops_team, open_in):
    ticket = open_in()

    services.assign(desk.john.user, ticket, team=ops_team)

    assert fresh(ticket).team == ops_team
    assert fresh(ticket).assignee is None


def test_naming_an_agent_with_the_team_is_not_overruled(desk, crew, ops_team, open_in):
    ops_team.assignment_mode = AssignmentMode.ROUND_ROBIN
    ops_team.save()
    ticket = open_in()

    services.assign(desk.john.user, ticket, agent=crew.amy, team=ops_team)

    assert fresh(ticket).assignee == crew.amy
    assert [e.data.get("auto") for e in events(ticket, EventKind.ASSIGNED)] == [None, None]
