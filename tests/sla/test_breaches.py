"""The SLA scan (tessera.sla.breaches.run): a warning once the plan's share of a target has
passed, then the breach, each once, to the people AlertSetting names, by real email."""

from __future__ import annotations

import threading
from email.utils import parseaddr

import pytest

from django.db import connection, connections
from django.urls import reverse

from tessera.sla import breaches
from tessera.tickets import services
from tessera.tickets.models import ALERT_DEFAULTS, AlertEvent, AlertSetting, Event, EventKind, Ticket
from tests.tickets.helpers import fresh

JOHN, JANE = "john@example.com", "jane@example.com"


@pytest.fixture(autouse=True)
def _alert_settings(db):
    for event, groups in ALERT_DEFAULTS.items():
        AlertSetting.objects.get_or_create(event=event, defaults=groups)


@pytest.fixture
def on_call(desk, office):
    """Support follows the 24×7 plan: first response in 30 min, resolution in 2 h; Jane manages it."""
    desk.support.sla_plan = office.on_call
    desk.support.manager = desk.jane
    desk.support.save()
    return office.on_call


@pytest.fixture
def scan(django_capture_on_commit_callbacks):
    """One pass of the scan whose alerts go out (their transactions' commit hooks run)."""

    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return breaches.run()

    return run


@pytest.fixture
def ticket(desk, on_call, at, smtp, django_capture_on_commit_callbacks):
    """Ken's ticket opened Monday 10:00 UTC and assigned to John; the mailbox then emptied."""
    at("2026-03-02 10:00")
    with django_capture_on_commit_callbacks(execute=True):
        opened = services.open_ticket(
            desk.ken,
            requester=desk.ken,
            subject="Printer jams",
            message="It jams on page two of every job.",
            topic=desk.general,
        )
        services.assign(desk.john.user, opened, agent=desk.john)
    smtp.envelopes.clear()
    return fresh(opened)


def recipients(smtp) -> list[str]:
    return sorted(parseaddr(m["To"])[1] for m in smtp.messages)


def kinds(ticket) -> list[str]:
    return list(
        Event.objects.filter(ticket=ticket, kind__in=[EventKind.SLA_WARNING, EventKind.SLA_BREACHED])
        .order_by("id")
        .values_list("kind", flat=True)
    )


def test_the_warning_time_is_three_quarters_of_the_target_in_business_time(ticket):
    assert ticket.first_response_warn_at.isoformat() == "2026-03-02T10:22:00+00:00"  # 22 of 30 min
    assert ticket.resolution_warn_at.isoformat() == "2026-03-02T11:30:00+00:00"  # 90 of 120 min


def test_the_assignee_is_warned_once_at_75_percent_then_told_with_the_manager_of_the_breach_once(
    ticket, smtp, at, scan
):
    at("2026-03-02 10:21")
    assert scan() == 0
    at("2026-03-02 10:23")
    assert scan() == 1
    assert recipients(smtp) == [JOHN]
    [warning] = smtp.messages
    assert "First response nearly due" in warning["Subject"]
    assert scan() == 0  # once
    smtp.envelopes.clear()

    at("2026-03-02 10:31")
    assert scan() == 1
    assert recipients(smtp) == [JANE, JOHN]  # the assignee and the department manager
    assert all("Overdue, no first response" in m["Subject"] for m in smtp.messages)
    assert scan() == 0
    assert fresh(ticket).first_response_breached
    assert kinds(ticket) == [EventKind.SLA_WARNING, EventKind.SLA_BREACHED]


def test_the_alert_says_when_it_was_due_in_the_recipients_zone_and_what_the_customer_wrote(ticket, smtp, at, scan):
    type(desk_user := ticket.assignee.user).objects.filter(pk=desk_user.pk).update(time_zone="America/New_York")
    at("2026-03-02 10:23")
    scan()
    [warning] = smtp.messages
    text = warning.get_body(preferencelist=("plain",)).get_content()
    assert "First response due: Monday 2 March 2026, 05:30 EST" in text  # 10:30 UTC in New York
    assert "It jams on page two of every job." in text
    assert reverse("staff:ticket", args=[ticket.number]) in text
    assert "Priority:" in text


def test_an_answered_ticket_is_not_warned_about_its_first_response(ticket, desk, smtp, at, scan):
    at("2026-03-02 10:10")
    services.reply(desk.john.user, ticket, message="Looking at it.")
    smtp.envelopes.clear()
    at("2026-03-02 10:40")
    assert scan() == 0
    assert smtp.messages == []
    at("2026-03-02 11:31")
    assert scan() == 1  # the resolution's warning still comes
    assert "Resolution nearly due" in smtp.messages[0]["Subject"]


def test_a_paused_ticket_is_neither_warned_nor_breached(ticket, desk, smtp, at, scan):
    at("2026-03-02 10:05")
    services.set_status(desk.john.user, ticket, status=desk.pending)
    smtp.envelopes.clear()
    at("2026-03-02 14:00")
    assert scan() == 0
    assert smtp.messages == []
    assert kinds(ticket) == []


def test_a_scan_that_comes_late_sends_the_breach_without_the_stale_warning(ticket, smtp, at, scan):
    at("2026-03-02 10:45")
    assert scan() == 1
    assert recipients(smtp) == [JANE, JOHN]
    assert kinds(ticket) == [EventKind.SLA_BREACHED]
    assert scan() == 0


def test_an_unassigned_ticket_alerts_its_team_else_its_department(desk, on_call, at, smtp, scan):
    at("2026-03-02 10:00")
    alone = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Nobody has it", message="Hello", topic=desk.general
    )
    smtp.envelopes.clear()
    at("2026-03-02 10:23")
    scan()
    # Support's agents: John and Olga (an observer is an agent of the department too).
    assert recipients(smtp) == ["john@example.com", "olga@example.com"]
    assert fresh(alone).first_response_warned_at is not None


def test_the_administrators_alert_settings_are_followed(ticket, smtp, at, scan):
    overdue = AlertSetting.objects.get(event=AlertEvent.OVERDUE)
    overdue.manager = False
    overdue.save()  # as the admin saves it: the memo of the settings is forgotten
    warning = AlertSetting.objects.get(event=AlertEvent.WARNING)
    warning.assignee = warning.team = warning.department = False
    warning.save()
    at("2026-03-02 10:23")
    assert scan() == 1  # warned (the timeline says so) though nobody is chosen to hear it
    assert smtp.messages == []
    at("2026-03-02 10:31")
    scan()
    assert recipients(smtp) == [JOHN]


def test_a_later_due_date_makes_a_new_warning_count(ticket, desk, at, scan, smtp):
    at("2026-03-02 11:31")
    scan()  # first response breached, resolution warned
    assert fresh(ticket).resolution_warned_at is not None
    at("2026-03-02 11:40")
    services.set_due_date(desk.john.user, fresh(ticket), due_at=fresh(ticket).due_at.replace(hour=20))
    assert fresh(ticket).resolution_warned_at is None
    smtp.envelopes.clear()
    at("2026-03-02 18:00")  # 75 % of 11:40 → 20:00 is 17:55
    assert scan() == 1
    assert "Resolution nearly due" in smtp.messages[0]["Subject"]


def test_the_overdue_alert_setting_no_longer_says_it_is_not_sent():
    assert "not sent" not in str(AlertEvent.OVERDUE.label)


def test_scanning_twice_sends_each_alert_once(ticket, smtp, at, scan):
    at("2026-03-02 10:31")
    assert scan() + scan() == 1
    assert len(smtp.messages) == 2  # John and the manager, once each


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections racing need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_scanning_at_once_send_one_alert(desk, office, at, smtp):
    desk.support.sla_plan = office.on_call
    desk.support.save()
    AlertSetting.objects.get_or_create(event=AlertEvent.WARNING, defaults=ALERT_DEFAULTS[AlertEvent.WARNING])
    at("2026-03-02 10:00")
    opened = services.open_ticket(desk.ken, requester=desk.ken, subject="Racing", message="Hello", topic=desk.general)
    services.assign(desk.john.user, opened, agent=desk.john)
    smtp.envelopes.clear()
    at("2026-03-02 10:23")
    start = threading.Barrier(2)
    acted: list[int] = []

    def worker() -> None:
        try:
            start.wait()
            acted.append(breaches.run())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(acted) == [0, 1]
    assert len(smtp.messages) == 1
    assert Event.objects.filter(ticket=opened, kind=EventKind.SLA_WARNING).count() == 1
    assert Ticket.objects.get(pk=opened.pk).first_response_warned_at is not None
