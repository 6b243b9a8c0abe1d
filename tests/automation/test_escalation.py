"""Escalation rules on time: an overdue ticket, or one no agent has answered for N business
minutes, gets its priority raised, is handed on and/or named agents are told, once per breach."""

from __future__ import annotations

import threading

import pytest

from django.db import connection

from tessera.automation import escalation
from tessera.automation.models import EscalationRule, EscalationRun, PriorityChange, Trigger
from tessera.sla.models import SlaPlan
from tessera.tickets import services
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import EventKind, Ticket
from tests.tickets.helpers import entries, events, fresh
from tests.tickets.test_ticket_numbers import (
    file_backed_sqlite,  # noqa: F401  (a fixture: SQLite writers queue as in production)
)


@pytest.fixture
def on_call(desk):
    """24×7, answered in 30 minutes, resolved in 2 hours: the desk default."""
    from datetime import time

    from tessera.sla.models import Schedule, ScheduleInterval

    always = Schedule.objects.create(name="Always", time_zone="UTC")
    for weekday in range(7):
        ScheduleInterval.objects.create(schedule=always, weekday=weekday, start=time(0), end=time(0))
    SlaPlan.objects.filter(is_default=True).update(is_default=False)
    return SlaPlan.objects.create(
        name="On call", schedule=always, first_response_minutes=30, resolution_minutes=120, is_default=True
    )


@pytest.fixture
def office_hours(desk):
    """Mon–Fri 09:00–17:00 UTC: the desk default."""
    from datetime import time

    from tessera.sla.models import Schedule, ScheduleInterval

    hours = Schedule.objects.create(name="Office", time_zone="UTC")
    for weekday in range(5):
        ScheduleInterval.objects.create(schedule=hours, weekday=weekday, start=time(9), end=time(17))
    SlaPlan.objects.filter(is_default=True).update(is_default=False)
    return SlaPlan.objects.create(
        name="Office", schedule=hours, first_response_minutes=240, resolution_minutes=960, is_default=True
    )


def rule(**fields):
    return EscalationRule.objects.create(name=fields.pop("name", "Late tickets"), **fields)


def test_an_overdue_ticket_gets_its_priority_raised_one_step(desk, on_call, at, open_in):
    at("2026-03-02 10:00")
    ticket = open_in()  # Sev-C, due at 12:00
    rule(trigger=Trigger.OVERDUE, priority_change=PriorityChange.STEP)

    at("2026-03-02 11:59")
    assert escalation.run() == 0
    at("2026-03-02 12:01")
    assert escalation.run() == 1

    assert fresh(ticket).priority == desk.sev_b
    raised = events(ticket, EventKind.PRIORITY)[-1]
    assert raised.actor is None
    assert event_sentence(raised) == (
        "Escalation rule “Late tickets” raised the priority from Sev-C (Normal) to Sev-B (High)"
    )


def test_a_rule_acts_once_per_breach_however_often_it_runs(desk, on_call, at, open_in):
    at("2026-03-02 10:00")
    ticket = open_in()
    rule(trigger=Trigger.OVERDUE, priority_change=PriorityChange.STEP)

    at("2026-03-02 12:01")
    assert escalation.run() == 1
    at("2026-03-02 12:30")
    assert escalation.run() == 0
    at("2026-03-03 12:30")
    assert escalation.run() == 0

    assert fresh(ticket).priority == desk.sev_b  # not stepped on to Sev-A
    assert len(events(ticket, EventKind.PRIORITY)) == 1
    assert EscalationRun.objects.count() == 1


def test_a_new_due_date_that_passes_again_is_a_new_breach(desk, on_call, at, open_in):
    from datetime import timedelta

    at("2026-03-02 10:00")
    ticket = open_in()
    rule(trigger=Trigger.OVERDUE, priority_change=PriorityChange.STEP)
    now = at("2026-03-02 12:01")
    escalation.run()
    services.set_due_date(desk.john.user, fresh(ticket), due_at=now + timedelta(hours=1))

    at("2026-03-02 13:30")
    assert escalation.run() == 1

    assert fresh(ticket).priority == desk.sev_a


def test_raising_to_a_chosen_priority_never_lowers_one(desk, on_call, at, open_in):
    at("2026-03-02 10:00")
    normal, urgent = open_in(), open_in()
    services.set_priority(desk.john.user, urgent, priority=desk.sev_a)
    rule(trigger=Trigger.OVERDUE, priority_change=PriorityChange.TO, priority=desk.sev_b)

    at("2026-03-03 10:00")
    escalation.run()

    assert fresh(normal).priority == desk.sev_b
    assert fresh(urgent).priority == desk.sev_a


def test_no_agent_response_counts_business_minutes_from_the_last_reply(desk, office_hours, at, open_in):
    at("2026-03-06 16:00")  # a Friday, one office hour left
    ticket = open_in()
    rule(trigger=Trigger.NO_RESPONSE, minutes=120, assign_team=desk.ops)

    at("2026-03-09 08:30")  # Monday before opening: 60 business minutes, though 64 hours passed
    assert escalation.run() == 0
    at("2026-03-09 10:01")  # 121 business minutes
    assert escalation.run() == 1

    assert fresh(ticket).team == desk.ops
    handed = events(ticket, EventKind.ASSIGNED)[-1]
    assert event_sentence(handed) == "Escalation rule “Late tickets” handed the ticket to team Infrastructure on-call"


def test_an_agent_reply_starts_the_silence_over(desk, on_call, at, open_in):
    at("2026-03-02 10:00")
    ticket = open_in()
    rule(trigger=Trigger.NO_RESPONSE, minutes=60, priority_change=PriorityChange.STEP)
    at("2026-03-02 10:50")
    services.reply(desk.john.user, ticket, message="Looking into it.")

    at("2026-03-02 11:30")
    assert escalation.run() == 0
    at("2026-03-02 11:51")
    assert escalation.run() == 1
    at("2026-03-02 14:00")
    assert escalation.run() == 0  # the same silence

    assert fresh(ticket).priority == desk.sev_b


def test_escalation_reassigns_to_an_agent_and_skips_one_who_is_away(desk, on_call, at, open_in):
    from tessera.accounts.models import Agent

    at("2026-03-02 10:00")
    ticket = open_in()
    services.assign(desk.john.user, ticket, agent=desk.john)
    rule(trigger=Trigger.OVERDUE, assign_agent=desk.jane)
    Agent.objects.filter(pk=desk.jane.pk).update(is_available=False)

    at("2026-03-02 12:01")
    escalation.run()
    assert fresh(ticket).assignee == desk.john  # Jane is away

    Agent.objects.filter(pk=desk.jane.pk).update(is_available=True)
    rule(name="Late, again", trigger=Trigger.OVERDUE, assign_agent=desk.jane)
    escalation.run()

    assert fresh(ticket).assignee == desk.jane
    assert event_sentence(events(ticket, EventKind.ASSIGNED)[-1]) == (
        "Escalation rule “Late, again” reassigned the ticket from John Doe to Jane Doe"
    )


def test_escalation_tells_named_agents_by_mail_and_notes_it(desk, on_call, at, open_in, smtp, committed):
    at("2026-03-02 10:00")
    ticket = open_in()
    late = rule(trigger=Trigger.OVERDUE)
    late.notify.add(desk.john, desk.bill)  # Bill works in Billing and cannot see the ticket

    at("2026-03-02 12:01")
    assert committed(escalation.run) == 1

    mail = smtp.wait_for(lambda m: "john@example.com" in m["To"])
    assert "Overdue, escalated: Printer jams" in mail[0]["Subject"]
    assert "Late tickets" in mail[0].get_body(preferencelist=("plain",)).get_content()
    assert smtp.to("bill@example.com") == []
    note = entries(ticket)[-1]
    assert note.kind == "note"
    assert "told John Doe" in note.body_text
    assert "Bill" not in note.body_text


def test_a_rule_for_another_department_leaves_the_ticket_alone(desk, on_call, at, open_in):
    at("2026-03-02 10:00")
    ticket = open_in()
    rule(trigger=Trigger.OVERDUE, priority_change=PriorityChange.STEP, department=desk.billing)

    at("2026-03-03 10:00")
    assert escalation.run() == 0
    assert fresh(ticket).priority == desk.sev_c


def test_a_resolved_or_waiting_ticket_is_not_escalated(desk, on_call, at, open_in):
    at("2026-03-02 10:00")
    resolved, waiting = open_in(), open_in()
    services.set_status(desk.john.user, resolved, status=desk.resolved)
    services.set_status(desk.john.user, waiting, status=desk.pending)
    rule(trigger=Trigger.NO_RESPONSE, minutes=10, priority_change=PriorityChange.STEP)

    at("2026-03-03 10:00")
    assert escalation.run() == 0


@pytest.mark.django_db(transaction=True)
def test_two_runners_at_once_escalate_a_ticket_once(file_backed_sqlite, desk, on_call, open_in):  # noqa: F811
    from datetime import UTC, datetime, timedelta

    ticket = open_in()
    Ticket.objects.filter(pk=ticket.pk).update(due_at=datetime.now(UTC) - timedelta(minutes=5))
    rule(trigger=Trigger.OVERDUE, priority_change=PriorityChange.STEP)
    results: list[int] = []
    start = threading.Barrier(2)

    def runner():
        try:
            start.wait()
            results.append(escalation.run())
        finally:
            connection.close()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results) == [0, 1]
    assert fresh(ticket).priority == desk.sev_b
    assert len(events(ticket, EventKind.PRIORITY)) == 1
