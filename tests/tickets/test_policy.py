"""policy.can, table-driven: for each way a person reaches a ticket, and each lifecycle state,
exactly which actions are allowed.

Read a row as: "<who>, reaching the ticket through <path>, may do <these> while it is <state>".
"""

from __future__ import annotations

import pytest

from django.contrib.auth.models import AnonymousUser

from tessera.accounts.models import Agent, Perm, User
from tessera.tickets import policy, services
from tessera.tickets.models import Collaborator, State, Ticket

ACTIONS = (
    "view", "reply", "note", "assign", "claim", "release", "transfer",
    "priority", "status", "close", "manage", "merge", "delete",
)  # fmt: skip
AGENT_ROLE = {"view", "reply", "note", "assign", "transfer", "priority", "status", "close", "manage"}
EVERYTHING = set(ACTIONS)
NOTHING: set[str] = set()
END_USER = {"view", "reply", "close"}
COPIED = {"view", "reply"}


# How each person comes to (or fails to) reach Ken's Support ticket. Each returns the acting user.
def _department_agent(d, ticket):
    return d.john.user


def _department_observer(d, ticket):
    return d.olga.user


def _assigned_from_another_department(d, ticket):
    services.assign(d.john.user, ticket, agent=d.bill)
    return d.bill.user


def _team_member(d, ticket):
    services.assign(d.john.user, ticket, team=d.ops)
    return d.jane.user


def _referral_follower(d, ticket):
    services.transfer(d.john.user, ticket, department=d.sysadmin)
    return d.john.user


def _agent_of_another_department(d, ticket):
    return d.bill.user


def _agent_elsewhere_while_a_colleague_has_it(d, ticket):
    services.assign(d.john.user, ticket, agent=d.john)
    return d.jane.user


def _requester(d, ticket):
    return d.ken


def _collaborator(d, ticket):
    kim = User.objects.create_user("kim@example.com", name="Kim Lee")
    Collaborator.objects.create(ticket=ticket, user=kim)
    return kim


def _agent_copied_from_another_department(d, ticket):
    Collaborator.objects.create(ticket=ticket, user=d.bill.user)
    return d.bill.user


def _stranger(d, ticket):
    return User.objects.create_user("kim@example.com", name="Kim Lee")


def _superuser_agent(d, ticket):
    Agent.objects.create(user=d.admin)
    return d.admin


def _superuser_without_agent_profile(d, ticket):
    return d.admin


def _disabled_agent(d, ticket):
    Agent.objects.filter(pk=d.john.pk).update(is_active=False)
    return User.objects.get(pk=d.john.user.pk)


def _disabled_requester(d, ticket):
    User.objects.filter(pk=d.ken.pk).update(is_active=False)
    return User.objects.get(pk=d.ken.pk)


def _anonymous(d, ticket):
    return AnonymousUser()


PATHS = {
    "department agent": _department_agent,
    "department observer": _department_observer,
    "assigned, from another department": _assigned_from_another_department,
    "team member": _team_member,
    "referral follower": _referral_follower,
    "agent of another department": _agent_of_another_department,
    "agent elsewhere, ticket assigned to a colleague": _agent_elsewhere_while_a_colleague_has_it,
    "requester": _requester,
    "collaborator": _collaborator,
    "agent copied from another department": _agent_copied_from_another_department,
    "stranger": _stranger,
    "superuser agent": _superuser_agent,
    "superuser without an agent profile": _superuser_without_agent_profile,
    "disabled agent": _disabled_agent,
    "disabled requester": _disabled_requester,
    "anonymous": _anonymous,
}

OPEN = {
    "department agent": AGENT_ROLE | {"claim", "release"},
    "department observer": {"view", "note"},
    "assigned, from another department": AGENT_ROLE | {"release"},  # already assigned: nothing to claim
    "team member": AGENT_ROLE | {"claim", "release"},  # claims from the team pool
    "referral follower": {"view", "reply", "note"},  # close only once resolved
    "agent of another department": NOTHING,
    "agent elsewhere, ticket assigned to a colleague": NOTHING,
    "requester": END_USER,
    "collaborator": COPIED,
    "agent copied from another department": COPIED,
    "stranger": NOTHING,
    "superuser agent": EVERYTHING,
    "superuser without an agent profile": NOTHING,  # configures the desk; works tickets only as an agent
    "disabled agent": NOTHING,
    "disabled requester": NOTHING,
    "anonymous": NOTHING,
}

# The lifecycle narrows what the same people may do.
BY_STATE = {
    State.OPEN: OPEN,
    State.PENDING: OPEN,
    State.RESOLVED: {
        **OPEN,
        "department agent": AGENT_ROLE | {"release"},  # only active tickets can be claimed
        "team member": AGENT_ROLE | {"release"},
        "referral follower": {"view", "reply", "note", "close"},  # Jane resolved it: John may close
        "superuser agent": EVERYTHING - {"claim"},
    },
    State.CLOSED: {
        **OPEN,
        # Read-only until reopened: notes and the status change that reopens it.
        "department agent": {"view", "note", "status"},
        "assigned, from another department": {"view", "note", "status"},
        "team member": {"view", "note", "status"},
        "referral follower": {"view", "note"},
        "requester": {"view", "reply"},  # replying reopens it
        "superuser agent": {"view", "note", "status", "merge", "delete"},
    },
    State.ARCHIVED: {
        **{path: ({"view"} if allowed else NOTHING) for path, allowed in OPEN.items()},
        "superuser agent": {"view", "status", "close"},  # an administrator can always bring it back
    },
}

CASES = [(state, path) for state in BY_STATE for path in PATHS]


@pytest.mark.parametrize("state, path", CASES, ids=[f"{s}: {p}" for s, p in CASES])
def test_what_each_person_may_do_to_a_ticket(desk, ken_ticket, set_state, state, path):
    actor = PATHS[path](desk, ken_ticket)
    ticket = set_state(ken_ticket, state)

    allowed = {action for action in ACTIONS if policy.can(actor, action, ticket)}

    assert allowed == BY_STATE[state][path]


@pytest.mark.parametrize(
    "path, works_as_agent",
    [
        ("department agent", True),
        ("department observer", True),
        ("team member", True),
        ("referral follower", True),
        ("superuser agent", True),
        ("requester", False),
        ("agent copied from another department", False),
        ("agent of another department", False),
        ("superuser without an agent profile", False),
        ("anonymous", False),
    ],
)
def test_who_writes_as_an_agent_and_who_as_a_customer(desk, ken_ticket, path, works_as_agent):
    actor = PATHS[path](desk, ken_ticket)

    assert policy.acts_as_agent(actor, Ticket.objects.get(pk=ken_ticket.pk)) is works_as_agent


def test_an_agent_who_is_also_the_requester_of_a_ticket_they_work_acts_as_an_agent(desk):
    ticket = services.open_ticket(
        desk.john.user, requester=desk.john.user, subject="My monitor", message="Flickers.", topic=desk.general
    )

    assert policy.acts_as_agent(desk.john.user, ticket)
    assert policy.can(desk.john.user, "assign", ticket)


# ---------------------------------------------------------------------------- questions without a ticket


def test_anyone_signed_in_may_open_a_ticket_but_not_a_visitor(desk):
    assert policy.can(desk.ken, "open")
    assert policy.can(desk.john.user, "open")
    assert not policy.can(AnonymousUser(), "open")
    assert not policy.can(None, "open")


def test_department_permissions_without_a_ticket(desk):
    Agent.objects.create(user=desk.admin)

    assert policy.can(desk.john.user, "assign", department=desk.support)
    assert not policy.can(desk.john.user, "assign", department=desk.billing)
    assert policy.can(desk.john.user, "assign")  # somewhere
    assert policy.can(desk.olga.user, "note") and not policy.can(desk.olga.user, "assign")
    assert not policy.can(desk.ken, "view")
    assert policy.can(desk.admin, "delete", department=desk.billing)


# ---------------------------------------------------------------------------- the queues agents see


def _open(desk, topic, subject):
    return services.open_ticket(desk.ken, requester=desk.ken, subject=subject, message="...", topic=topic)


def test_each_agent_sees_the_tickets_they_can_reach_and_no_others(desk):
    printer = _open(desk, desk.general, "Printer")
    outage = _open(desk, desk.outage, "Mail server down")
    billing = services.open_ticket(
        desk.john.user, requester=desk.ken, subject="Invoice", message="...", department=desk.billing
    )
    for_the_team = _open(desk, desk.general, "Rack noise")
    services.assign(desk.john.user, for_the_team, team=desk.ops)
    referred = _open(desk, desk.general, "VPN")
    services.transfer(desk.john.user, referred, department=desk.sysadmin)
    for_bill = _open(desk, desk.general, "Card reader")
    services.assign(desk.john.user, for_bill, agent=desk.bill)
    Agent.objects.create(user=desk.admin)

    def visible(agent):
        numbers = list(policy.visible_tickets(agent).values_list("number", flat=True))
        assert len(numbers) == len(set(numbers)), "a queue lists a ticket twice"
        return set(numbers)

    support = {printer.number, for_the_team.number, for_bill.number}
    assert visible(desk.john) == support | {referred.number}
    assert visible(desk.olga) == support
    assert visible(desk.jane) == {outage.number, referred.number, for_the_team.number}
    assert visible(desk.bill) == {billing.number, for_bill.number}
    assert visible(desk.admin.agent) == set(Ticket.objects.values_list("number", flat=True))


def test_visible_tickets_agrees_with_can_view(desk):
    tickets = [_open(desk, desk.general, "Printer"), _open(desk, desk.outage, "Outage")]
    services.transfer(desk.john.user, tickets[0], department=desk.billing)

    for agent in (desk.john, desk.jane, desk.bill, desk.olga):
        fresh_agent = Agent.objects.get(pk=agent.pk)
        listed = set(policy.visible_tickets(fresh_agent).values_list("pk", flat=True))
        allowed = {t.pk for t in Ticket.objects.all() if policy.can(fresh_agent.user, "view", t)}
        assert listed == allowed, agent


# ---------------------------------------------------------------------------- typed actions


def test_every_role_permission_is_a_typed_action_spelled_the_same():
    extra = {"open", "claim", "release", "sla_plan", "due_date", "topic"}
    # The task permissions are asked about tasks (policy.TaskAction, can_create_task), not tickets.
    task_perms = {p for p in Perm.values if p.startswith("task_")}
    # Writing knowledge-base articles is asked about articles, by tessera.kb.policy.
    elsewhere = task_perms | {Perm.KB}
    assert {a.value for a in policy.Action} == (set(Perm.values) - elsewhere) | extra
    assert task_perms <= {a.value for a in policy.TaskAction}
    assert policy.Action.VIEW == Perm.VIEW == "view"  # a Perm or a plain string asks the same question


def test_a_typed_action_and_its_old_string_get_the_same_answer(desk, ken_ticket):
    for actor in (desk.john.user, desk.olga.user, desk.ken, desk.bill.user):
        for action in policy.Action:
            assert policy.can(actor, action, ken_ticket) == policy.can(actor, str(action), ken_ticket), (actor, action)


# ---------------------------------------------------------------------------- which statuses a person may set

# People who reach the ticket as its requester or copied on it, not as an agent working it.
PARTIES_NOT_AGENTS = {"requester", "collaborator", "agent copied from another department", "disabled requester"}

# The statuses a status select offers follow from the table above: closing and archiving need
# "close", every other state "status".
STATUS_TARGETS = {
    State.OPEN: "status",
    State.PENDING: "status",
    State.RESOLVED: "status",
    State.CLOSED: "close",
    State.ARCHIVED: "close",
}


@pytest.mark.parametrize("state, path", CASES, ids=[f"{s}: {p}" for s, p in CASES])
def test_which_statuses_each_person_may_set(desk, ken_ticket, set_state, state, path):
    actor = PATHS[path](desk, ken_ticket)
    ticket = set_state(ken_ticket, state)
    expected = {target for target, needs in STATUS_TARGETS.items() if needs in BY_STATE[state][path]}
    if path in PARTIES_NOT_AGENTS:
        expected.discard(State.ARCHIVED)  # an end user's "close" never archives

    assert {t for t in STATUS_TARGETS if policy.can_set_status(actor, ticket, t)} == expected
    assert policy.settable_states(actor, ticket) == expected


def test_a_referral_follower_may_close_what_was_resolved_but_not_reopen_it(desk, ken_ticket, set_state):
    actor = _referral_follower(desk, ken_ticket)
    ticket = set_state(ken_ticket, State.RESOLVED)

    assert policy.status_action(State.CLOSED) == policy.Action.CLOSE
    assert policy.status_action(State.OPEN) == policy.Action.STATUS
    assert policy.can_set_status(actor, ticket, State.CLOSED)
    assert not policy.can_set_status(actor, ticket, State.OPEN)


# ---------------------------------------------------------------------------- the workspace, saved queues, profiles

# Per person: may sign in to the workspace, works in it as an agent, may save queues, may edit
# John's saved queue, may share saved queues, may edit John's profile.
WORKSPACE = {
    "department agent": (True, True, True, True, False, True),  # John himself
    "department observer": (True, True, True, False, False, False),
    "agent of another department": (True, True, True, False, False, False),
    "requester": (False, False, False, False, False, False),
    "collaborator": (False, False, False, False, False, False),
    "stranger": (False, False, False, False, False, False),
    "superuser agent": (True, True, True, True, True, True),
    "superuser without an agent profile": (True, False, False, True, True, True),  # configures the desk
    "disabled agent": (False, False, False, False, False, True),  # John, his agent profile switched off
    "disabled requester": (False, False, False, False, False, False),
    "anonymous": (False, False, False, False, False, False),
}


@pytest.mark.parametrize("path", list(WORKSPACE))
def test_who_may_use_the_workspace_its_saved_queues_and_profiles(desk, ken_ticket, path):
    from tessera.staff import services as queue_services

    johns_queue = queue_services.create_saved_queue(desk.john.user, name="Printers", params={})
    actor = PATHS[path](desk, ken_ticket)
    enters, works, saves, edits, shares, profile = WORKSPACE[path]

    assert policy.may_enter_workspace(actor) is enters
    agent = policy.workspace_agent(actor)
    assert (agent is not None) is works
    if works:
        assert agent.user_id == actor.pk
    assert policy.can_save_queues(actor) is saves
    assert policy.can_edit_saved_queue(actor, johns_queue) is edits
    assert policy.can_share_saved_queues(actor) is shares
    assert policy.can_edit_agent_profile(actor, desk.john) is profile
    assert not policy.may_enter_workspace(None) and policy.workspace_agent(None) is None
