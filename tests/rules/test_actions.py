"""What a matching rule does to a new ticket, and what it leaves on the timeline."""

from __future__ import annotations

from datetime import time

import pytest

from tessera.accounts.models import Team
from tessera.rules.models import Rule
from tessera.sla.models import Schedule, ScheduleInterval, SlaPlan
from tessera.tickets import services
from tessera.tickets.models import Collaborator, Event, EventKind, State


def open_printer(desk, subject="Printer jams", **kw):
    fields = {"requester": desk.ken, "subject": subject, "message": "It jams on page two.", "topic": desk.general}
    return services.open_ticket(desk.ken, **{**fields, **kw})


def rule_events(ticket):
    return list(Event.objects.filter(ticket=ticket, kind=EventKind.RULE_APPLIED).order_by("pk"))


PRINTER = [("subject", "contains", "printer")]


def test_set_department_moves_the_new_ticket(make_rule, desk):
    make_rule("to sysadmin", PRINTER, [("department", desk.sysadmin)])
    assert open_printer(desk).department == desk.sysadmin


def test_set_priority(make_rule, desk):
    make_rule("urgent", PRINTER, [("priority", desk.sev_a)])
    assert open_printer(desk).priority == desk.sev_a


def test_set_team_and_agent_assign_the_new_ticket(make_rule, desk, django_capture_on_commit_callbacks):
    make_rule("to john", PRINTER, [("team", desk.ops), ("agent", desk.john)])
    ticket = open_printer(desk)
    assert (ticket.team, ticket.assignee) == (desk.ops, desk.john)


def test_an_agent_the_department_may_not_assign_is_left_out_and_the_rule_marked(make_rule, desk):
    desk.support.assign_members_only = True
    desk.support.save()
    rule = make_rule("to jane", PRINTER, [("agent", desk.jane)])
    ticket = open_printer(desk)
    assert ticket.assignee is None
    rule.refresh_from_db()
    assert "may not be assigned" in rule.last_error


def test_set_status_opens_the_ticket_in_that_state_with_its_clock_stopped(make_rule, desk):
    make_rule("waiting", PRINTER, [("status", desk.pending)])
    ticket = open_printer(desk)
    assert (ticket.status, ticket.state) == (desk.pending, State.PENDING)
    assert ticket.sla_paused_at is not None and ticket.due_at is None


def test_set_help_topic_takes_the_topics_department(make_rule, desk):
    make_rule("outage", PRINTER, [("topic", desk.outage)])
    ticket = open_printer(desk)
    assert (ticket.topic, ticket.department) == (desk.outage, desk.sysadmin)


def test_copy_addresses_adds_collaborators_with_an_event(make_rule, desk):
    make_rule("copy", PRINTER, [("collaborators", "boss@example.com, KIM@example.com, ken@example.com")])
    ticket = open_printer(desk)
    copied = set(Collaborator.objects.filter(ticket=ticket).values_list("user__email", flat=True))
    assert copied == {"boss@example.com", "kim@example.com"}  # the requester is not copied on her own ticket
    assert Event.objects.filter(ticket=ticket, kind=EventKind.COLLABORATOR_ADDED).count() == 2


def test_no_auto_reply_sends_no_acknowledgement_but_still_alerts_agents(
    make_rule, desk, mailoutbox, django_capture_on_commit_callbacks
):
    make_rule("quiet", PRINTER, [("no_auto_reply", "")])
    with django_capture_on_commit_callbacks(execute=True):
        open_printer(desk)
    assert not [m for m in mailoutbox if m.to == ["ken@example.com"]]
    assert [m for m in mailoutbox if m.to == ["john@example.com"]]


def test_without_the_rule_the_acknowledgement_goes_out(desk, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        open_printer(desk)
    assert [m for m in mailoutbox if m.to == ["ken@example.com"]]


@pytest.fixture
def plans(desk):
    # Its own around-the-clock schedule: the migration's "24×7" may have been emptied by a
    # transactional test that ran earlier on this worker.
    schedule = Schedule.objects.create(name="Rules test: around the clock", time_zone="UTC")
    for weekday in range(7):
        ScheduleInterval.objects.create(schedule=schedule, weekday=weekday, start=time(0), end=time(0))
    fast = SlaPlan.objects.create(
        name="Fast", schedule=schedule, first_response_minutes=60, resolution_minutes=120, is_active=True
    )
    slow = SlaPlan.objects.create(
        name="Slow", schedule=schedule, first_response_minutes=6000, resolution_minutes=12000, is_active=True
    )
    return fast, slow


def test_a_rules_sla_plan_wins_over_the_topics_plan_and_sets_the_due_times(make_rule, desk, plans):
    fast, slow = plans
    desk.general.sla_plan = slow
    desk.general.save()
    make_rule("vip", PRINTER, [("sla_plan", fast)])
    ticket = open_printer(desk)
    assert ticket.sla_plan == fast and ticket.sla_plan_fixed
    without = open_printer(desk, subject="Mouse broken")
    assert without.sla_plan == slow
    assert ticket.due_at < without.due_at


def test_each_rule_that_acted_leaves_an_event_naming_it_and_its_actions(make_rule, desk):
    make_rule("first", PRINTER, [("priority", desk.sev_a)], order=1)
    make_rule("second", PRINTER, [("department", desk.sysadmin)], order=2)
    make_rule("never", [("subject", "contains", "mouse")], [("priority", desk.sev_d)], order=3)
    ticket = open_printer(desk)
    events = rule_events(ticket)
    assert [e.after for e in events] == ["first", "second"]
    assert events[0].actor is None and "Sev-A" in events[0].data["actions"]
    from tessera.tickets.event_sentences import event_sentence

    assert event_sentence(events[1]).startswith("Routing rule second applied")


def test_match_counts_and_last_matched_are_kept_per_rule(make_rule, desk):
    hit = make_rule("hit", PRINTER, [("priority", desk.sev_a)])
    miss = make_rule("miss", [("subject", "contains", "mouse")], [("priority", desk.sev_d)])
    open_printer(desk)
    open_printer(desk)
    hit.refresh_from_db()
    miss.refresh_from_db()
    assert (hit.match_count, miss.match_count) == (2, 0)
    assert hit.last_matched_at is not None and miss.last_matched_at is None


def test_a_team_made_inactive_is_not_assigned(make_rule, desk):
    make_rule("team", PRINTER, [("team", desk.ops)])
    Team.objects.filter(pk=desk.ops.pk).update(is_active=False)
    from tessera import process_memo

    process_memo.forget_all()
    assert open_printer(desk).team is None
    assert Rule.objects.get().match_count == 1
