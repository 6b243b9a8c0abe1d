"""Due times on tickets: which plan a ticket follows, and how its services move the due times
(priority, status and the paused clock, transfer, first response, the agent's own date)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from django.core.exceptions import PermissionDenied, ValidationError

from tessera.tickets import services
from tessera.tickets.models import EventKind, Ticket
from tessera.tickets.services.sla import set_due_date, set_sla_plan
from tests.tickets.helpers import events, fresh, unchanged


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def open_for_ken(desk, **extra):
    return services.open_ticket(desk.ken, requester=desk.ken, subject="Printer jams", message="Page two.", **extra)


# ---------------------------------------------------------------------------- which plan


def test_a_new_ticket_follows_the_desk_default_and_its_priority_targets(desk, office, at):
    at("2026-03-02 08:00")  # Monday 09:00 in Berlin
    ticket = open_for_ken(desk, topic=desk.general)  # Sev-C: the plan's own targets, 4 h / 3 days
    assert ticket.sla_plan_id == office.standard.pk
    assert fresh(ticket).first_response_due_at == utc("2026-03-02 12:00")
    assert fresh(ticket).due_at == utc("2026-03-04 16:00")  # 1440 minutes = three office days


def test_the_help_topic_plan_wins_over_the_department_which_wins_over_the_default(desk, office, at):
    at("2026-03-02 08:00")
    desk.support.sla_plan = office.on_call
    desk.support.save()
    assert open_for_ken(desk, topic=desk.general).sla_plan_id == office.on_call.pk
    desk.general.sla_plan = office.standard
    desk.general.save()
    assert open_for_ken(desk, topic=desk.general).sla_plan_id == office.standard.pk


def test_an_inactive_plan_is_passed_over(desk, office, at):
    at("2026-03-02 08:00")
    office.on_call.is_active = False
    office.on_call.save()
    desk.support.sla_plan = office.on_call
    desk.support.save()
    assert open_for_ken(desk, topic=desk.general).sla_plan_id == office.standard.pk


def test_a_ticket_opened_at_the_weekend_is_due_from_monday_morning(desk, office, at):
    at("2026-03-07 12:00")  # Saturday
    ticket = open_for_ken(desk, topic=desk.general)
    assert fresh(ticket).first_response_due_at == utc("2026-03-09 12:00")  # Monday 09:00 CET + 4 h


# ---------------------------------------------------------------------------- the services move it


def test_changing_the_help_topic_puts_the_ticket_on_that_topics_plan(desk, office, at):
    at("2026-03-02 08:00")  # Monday 09:00 in Berlin
    desk.outage.sla_plan = office.on_call  # outages: answered around the clock, resolved in 2 h
    desk.outage.save()
    ticket = open_for_ken(desk, topic=desk.general)
    assert ticket.sla_plan_id == office.standard.pk

    at("2026-03-02 08:10")
    services.set_topic(desk.john.user, ticket, topic=desk.outage)

    ticket = fresh(ticket)
    assert ticket.sla_plan_id == office.on_call.pk
    assert ticket.due_at == utc("2026-03-02 10:00")  # the clock still runs from when Ken wrote
    [event] = events(ticket, EventKind.TOPIC)
    assert event.data["due_at"] is not None  # the timeline says the due time moved with the topic


def test_raising_the_priority_brings_the_due_times_forward_and_says_so(desk, office, at):
    at("2026-03-02 08:00")
    ticket = open_for_ken(desk, topic=desk.general)
    at("2026-03-02 08:05")
    services.set_priority(desk.john.user, ticket, priority=desk.sev_a)
    ticket = fresh(ticket)
    assert ticket.first_response_due_at == utc("2026-03-02 08:15")
    assert ticket.due_at == utc("2026-03-02 12:00")
    [event] = events(ticket, EventKind.PRIORITY)
    assert event.data["due_at"] == "2026-03-02T12:00:00+00:00"
    assert event.data["due_before"] == "2026-03-04T16:00:00+00:00"


def test_waiting_on_the_customer_stops_the_clock_and_their_answer_restarts_it(desk, office, at):
    at("2026-03-02 08:00")
    ticket = open_for_ken(desk, topic=desk.general)
    at("2026-03-02 10:00")
    services.set_status(desk.john.user, ticket, status=desk.pending)
    waiting = fresh(ticket)
    assert waiting.due_at is None and waiting.first_response_due_at is None
    assert waiting.sla_paused_at == utc("2026-03-02 10:00")
    at("2026-03-03 10:00")  # a whole office day later
    services.reply(desk.ken, ticket, message="Here is the photo.")
    back = fresh(ticket)
    assert back.state == "open" and back.sla_paused_at is None
    assert back.first_response_due_at == utc("2026-03-03 12:00")  # 2 h used before, 2 h left
    assert back.due_at == utc("2026-03-05 16:00")  # a day later than without the pause
    [_pending, reopened] = events(ticket, EventKind.STATUS)
    assert reopened.data["due_at"] == "2026-03-05T16:00:00+00:00"


def test_a_pause_after_the_due_time_does_not_move_it(desk, office, at):
    at("2026-03-02 08:00")
    ticket = open_for_ken(desk, topic=desk.general, priority=None)
    services.set_priority(desk.john.user, ticket, priority=desk.sev_a)  # due 12:00
    at("2026-03-02 13:00")
    services.set_status(desk.john.user, ticket, status=desk.pending)
    at("2026-03-02 15:00")
    services.set_status(desk.john.user, ticket, status=desk.open)
    assert fresh(ticket).due_at == utc("2026-03-02 12:00")


def test_resolving_late_marks_the_breach_and_keeps_the_due_time(desk, office, at):
    at("2026-03-02 08:00")
    ticket = open_for_ken(desk, topic=desk.general)
    services.set_priority(desk.john.user, ticket, priority=desk.sev_a)
    at("2026-03-02 13:00")
    services.set_status(desk.john.user, ticket, status=desk.resolved)
    done = fresh(ticket)
    assert done.resolution_breached is True
    assert done.due_at == utc("2026-03-02 12:00")


def test_a_late_first_response_is_marked_and_an_early_one_is_not(desk, office, at):
    at("2026-03-02 08:00")
    early = open_for_ken(desk, topic=desk.general)
    late = open_for_ken(desk, topic=desk.general, priority=None)
    services.set_priority(desk.john.user, late, priority=desk.sev_a)  # answer by 08:15
    at("2026-03-02 09:00")
    services.reply(desk.john.user, early, message="On it.")
    services.reply(desk.john.user, late, message="On it.")
    assert fresh(early).first_response_breached is False
    assert fresh(late).first_response_breached is True


def test_a_transfer_takes_the_new_departments_plan_unless_an_agent_chose_one(desk, office, at):
    at("2026-03-02 08:00")
    desk.sysadmin.sla_plan = office.on_call
    desk.sysadmin.save()
    ticket = open_for_ken(desk, topic=desk.general)
    services.transfer(desk.john.user, ticket, department=desk.sysadmin)
    moved = fresh(ticket)
    assert moved.sla_plan_id == office.on_call.pk
    assert moved.due_at == utc("2026-03-02 10:00")  # 120 minutes around the clock
    [event] = events(ticket, EventKind.TRANSFERRED)
    assert event.data["due_at"] == "2026-03-02T10:00:00+00:00"

    chosen = open_for_ken(desk, topic=desk.general)
    set_sla_plan(desk.john.user, chosen, plan=office.standard)
    services.transfer(desk.john.user, chosen, department=desk.sysadmin)
    assert fresh(chosen).sla_plan_id == office.standard.pk


# ---------------------------------------------------------------------------- the agent's choices


def test_an_agents_due_date_wins_over_the_plan_until_taken_back(desk, office, at):
    at("2026-03-02 08:00")
    ticket = open_for_ken(desk, topic=desk.general)
    set_due_date(desk.john.user, ticket, due_at=utc("2026-03-20 12:00"))
    services.set_priority(desk.john.user, ticket, priority=desk.sev_a)
    assert fresh(ticket).due_at == utc("2026-03-20 12:00")
    assert fresh(ticket).first_response_due_at == utc("2026-03-02 08:15")  # the plan still sets this one
    set_due_date(desk.john.user, ticket, due_at=None)
    assert fresh(ticket).due_at == utc("2026-03-02 12:00")
    assert [e.data["manual"] for e in events(ticket, EventKind.DUE_DATE)] == ["yes", "no"]


def test_a_due_date_in_the_past_is_refused(desk, office, at, ken_ticket):
    at("2026-03-02 08:00")
    with unchanged(ken_ticket), pytest.raises(ValidationError, match="future"):
        set_due_date(desk.john.user, ken_ticket, due_at=utc("2026-03-01 08:00"))


def test_choosing_a_plan_recomputes_from_the_opening_and_is_recorded(desk, office, at):
    at("2026-03-02 08:00")
    ticket = open_for_ken(desk, topic=desk.general)
    at("2026-03-02 08:30")
    set_sla_plan(desk.john.user, ticket, plan=office.on_call)
    chosen = fresh(ticket)
    assert chosen.sla_plan_fixed and chosen.due_at == utc("2026-03-02 10:00")
    [event] = events(ticket, EventKind.SLA_PLAN)
    assert (event.before, event.after) == ("Standard", "On call")
    set_sla_plan(desk.john.user, ticket, plan=None)
    assert fresh(ticket).sla_plan_id == office.standard.pk and not fresh(ticket).sla_plan_fixed


def test_people_without_the_priority_right_cannot_change_plan_or_due_date(desk, office, ken_ticket):
    later = datetime.now(UTC) + timedelta(days=3)
    for person in (desk.ken, desk.olga.user, desk.jane.user):  # the requester, an observer, another department
        with unchanged(ken_ticket), pytest.raises(PermissionDenied):
            set_sla_plan(person, ken_ticket, plan=office.on_call)
        with unchanged(ken_ticket), pytest.raises(PermissionDenied):
            set_due_date(person, ken_ticket, due_at=later)


def test_an_inactive_plan_cannot_be_chosen(desk, office, ken_ticket):
    office.on_call.is_active = False
    office.on_call.save()
    with unchanged(ken_ticket), pytest.raises(ValidationError, match="not active"):
        set_sla_plan(desk.john.user, ken_ticket, plan=office.on_call)


def test_a_closed_ticket_takes_no_new_due_date(desk, office, ken_ticket):
    Ticket.objects.filter(pk=ken_ticket.pk).update(state="closed", status=desk.closed)
    closed = fresh(ken_ticket)
    with unchanged(closed), pytest.raises(PermissionDenied):
        set_due_date(desk.john.user, closed, due_at=datetime.now(UTC) + timedelta(days=1))


def test_a_ticket_from_before_plans_gets_one_at_its_next_change(desk, office, ken_ticket, at):
    Ticket.objects.filter(pk=ken_ticket.pk).update(sla_plan=None, due_at=None, first_response_due_at=None)
    at("2026-03-02 08:00")
    services.set_priority(desk.john.user, fresh(ken_ticket), priority=desk.sev_d)
    assert fresh(ken_ticket).sla_plan_id == office.standard.pk
    assert fresh(ken_ticket).due_at is not None
