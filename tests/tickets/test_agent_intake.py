"""services.open_ticket_for_caller: an agent opens a ticket for someone who phoned, walked in,
wrote or reached the desk another way. One transaction: the person, the ticket (routing rules
and SLA as on every channel), then assignment, note and people copied, each with its Event."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from django.core.exceptions import PermissionDenied, ValidationError

from tessera.accounts.models import User
from tessera.rules.models import Refusal
from tessera.tickets import services
from tessera.tickets.models import Collaborator, EntryKind, Event, EventKind, Source, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_rule(db):
    """A routing rule as an administrator writes it: conditions, then actions (kind, target or text)."""
    from tessera.rules.models import TARGET_FIELDS, Action, ActionKind, Condition, Rule

    def make(name, conditions, actions):
        rule = Rule.objects.create(name=name, match="all")
        for field, operator, value in conditions:
            Condition.objects.create(rule=rule, field=field, operator=operator, value=value)
        for kind, target in actions:
            field = TARGET_FIELDS.get(ActionKind(kind))
            Action.objects.create(rule=rule, kind=kind, **({field: target} if field else {"text": target}))
        return rule

    return make


def call(desk, **overrides):
    fields = {
        "requester": desk.ken,
        "subject": "Cannot print payslips",
        "message": "Ken phoned: the payroll printer prints blank pages.",
        "topic": desk.general,
        "source": Source.PHONE,
    }
    fields.update(overrides)
    return services.open_ticket_for_caller(desk.john.user, **fields)


def test_a_phone_call_from_ken_becomes_his_ticket_opened_by_john(desk):
    ticket = call(desk)
    assert ticket.user == desk.ken and ticket.source == Source.PHONE and ticket.department == desk.support
    opening = ticket.entries.get()
    assert opening.kind == EntryKind.MESSAGE and opening.author == desk.ken and opening.source == Source.PHONE
    created = Event.objects.get(ticket=ticket, kind=EventKind.CREATED)
    assert created.actor == desk.john.user


def test_a_new_caller_gets_an_account_made_from_the_address_given(desk):
    ticket = call(desk, requester=None, new_requester=services.NewRequester(email="Rosa@Example.org", name="Rosa Diaz"))
    rosa = User.objects.get(email="rosa@example.org")
    assert ticket.user == rosa and rosa.name == "Rosa Diaz" and not rosa.has_usable_password()


def test_a_walk_in_is_recorded_as_such(desk):
    assert call(desk, source=Source.WALK_IN).source == Source.WALK_IN


def test_assignee_note_and_people_copied_are_applied_each_with_its_event(desk, kim):
    ticket = call(
        desk,
        assignee=desk.john,
        internal_note="He sounded in a hurry; payroll runs tomorrow.",
        collaborators=["kim@example.com", "boss@example.com", "KIM@example.com"],
    )
    assert ticket.assignee == desk.john
    assert Event.objects.filter(ticket=ticket, kind=EventKind.ASSIGNED, after="John Doe").exists()
    note = ticket.entries.get(kind=EntryKind.NOTE)
    assert "payroll runs tomorrow" in note.body_text and note.author == desk.john.user
    assert Event.objects.filter(ticket=ticket, kind=EventKind.NOTE).count() == 1
    copied = set(Collaborator.objects.filter(ticket=ticket).values_list("user__email", flat=True))
    assert copied == {"kim@example.com", "boss@example.com"}
    assert Event.objects.filter(ticket=ticket, kind=EventKind.COLLABORATOR_ADDED).count() == 2


def test_a_team_alone_can_be_given_the_ticket(desk):
    jane_as_support = desk.jane
    from tessera.accounts.models import Membership

    Membership.objects.create(agent=jane_as_support, department=desk.support, role=desk.john.memberships.get().role)
    ticket = call(desk, team=desk.ops)
    assert ticket.team == desk.ops
    assert Event.objects.filter(ticket=ticket, kind=EventKind.ASSIGNED, after=desk.ops.name).exists()


def test_a_routing_rule_on_the_channel_applies_to_walk_ins(desk, make_rule):
    make_rule("walk-ins are urgent", [("channel", "equals", "walk_in")], [("priority", desk.sev_a)])
    assert call(desk, source=Source.WALK_IN).priority == desk.sev_a
    assert call(desk, source=Source.PHONE).priority != desk.sev_a


def test_the_department_plan_sets_the_due_time(desk):
    from tessera.sla.models import Schedule, ScheduleInterval, SlaPlan

    always, made = Schedule.objects.get_or_create(name="24×7", defaults={"time_zone": "UTC"})
    if made:
        for weekday in range(7):
            ScheduleInterval.objects.create(schedule=always, weekday=weekday, start=time(0), end=time(0))
    plan = SlaPlan.objects.create(name="Hotline", schedule=always, first_response_minutes=30, resolution_minutes=120)
    desk.support.sla_plan = plan
    desk.support.save()
    ticket = call(desk)
    assert ticket.sla_plan == plan
    assert ticket.due_at == ticket.created_at + timedelta(minutes=120)


def test_a_rejecting_rule_leaves_no_ticket_and_no_new_account_but_keeps_the_refusal(desk, make_rule):
    make_rule("no spam", [("subject", "contains", "lottery")], [("reject", "Not here.")])
    with pytest.raises(services.TicketRefused):
        call(
            desk,
            requester=None,
            new_requester=services.NewRequester(email="win@lottery.example"),
            subject="You won the lottery",
        )
    assert not Ticket.objects.exists()
    assert not User.objects.filter(email="win@lottery.example").exists()
    assert Refusal.objects.count() == 1


# ---------------------------------------------------------------------------- refusals


def test_an_agent_cannot_be_the_requester(desk):
    with pytest.raises(ValidationError) as refused:
        call(desk, requester=desk.jane.user)
    assert "requester" in refused.value.message_dict
    assert not Ticket.objects.exists()


def test_an_agents_address_typed_as_a_new_person_is_refused(desk):
    with pytest.raises(ValidationError) as refused:
        call(desk, requester=None, new_requester=services.NewRequester(email="JOHN@example.com"))
    assert "requester_email" in refused.value.message_dict
    assert not Ticket.objects.exists()


def test_the_administrator_is_not_a_requester_either(desk):
    with pytest.raises(ValidationError):
        call(desk, requester=desk.admin)


def test_john_cannot_open_in_a_department_he_does_not_work_in(desk):
    with pytest.raises(ValidationError) as refused:
        call(desk, department=desk.billing)
    assert "department" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        call(desk, topic=desk.outage)  # the topic's department is System Administration
    assert "topic" in refused.value.message_dict
    assert not Ticket.objects.exists()


def test_an_observer_may_open_but_not_assign_or_set_the_priority(desk):
    with pytest.raises(ValidationError) as refused:
        services.open_ticket_for_caller(
            desk.olga.user,
            requester=desk.ken,
            subject="Printer",
            message="Jams.",
            topic=desk.general,
            assignee=desk.john,
        )
    assert "assignee" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.open_ticket_for_caller(
            desk.olga.user,
            requester=desk.ken,
            subject="Printer",
            message="Jams.",
            topic=desk.general,
            priority=desk.sev_a,
        )
    assert "priority" in refused.value.message_dict
    ticket = services.open_ticket_for_caller(
        desk.olga.user, requester=desk.ken, subject="Printer", message="Jams.", topic=desk.general
    )
    assert ticket.user == desk.ken


def test_an_assignee_the_department_does_not_allow_rolls_everything_back(desk):
    desk.support.assign_members_only = True
    desk.support.save()
    with pytest.raises(ValidationError) as refused:
        call(desk, assignee=desk.bill, requester=None, new_requester=services.NewRequester(email="new@example.net"))
    assert "Bill Payne" in " ".join(refused.value.message_dict["assignee"])
    assert not Ticket.objects.exists()
    assert not User.objects.filter(email="new@example.net").exists()


def test_a_rule_that_sends_the_ticket_out_of_reach_says_so_and_saves_nothing(desk, make_rule):
    make_rule("servers", [("subject", "contains", "server")], [("department", desk.sysadmin)])
    with pytest.raises(ValidationError) as refused:
        call(desk, subject="The server is down", internal_note="Urgent, says Ken.")
    assert "System Administration" in " ".join(refused.value.message_dict["internal_note"])
    assert not Ticket.objects.exists()


def test_end_users_cannot_open_for_someone_else(desk, kim):
    with pytest.raises(PermissionDenied):
        services.open_ticket_for_caller(kim, requester=desk.ken, subject="x", message="y", topic=desk.general)


def test_the_requester_must_be_named_one_way(desk):
    with pytest.raises(ValidationError) as refused:
        call(desk, requester=None)
    assert "requester" in refused.value.message_dict
