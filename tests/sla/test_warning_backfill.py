"""Tickets opened before SLA warnings existed (their warning columns empty, as migration
tickets 0012 left them) get the warning their plan promises, and then are warned like any other."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest

from django.core.management import call_command

from tessera.sla import breaches, warning_backfill
from tessera.tickets import services
from tessera.tickets.models import Event, EventKind, Ticket
from tests.tickets.helpers import fresh

WARN_COLUMNS = {"first_response_warn_at": None, "resolution_warn_at": None}


@pytest.fixture
def before_warnings(desk, office, at):
    """open_before() opens a Sev-A ticket in Support (Standard: answer in 15 min, resolve in 4
    business hours) on Monday 2 March 2026 at 08:00 UTC, then empties its warning columns."""

    def open_before(**extra):
        at("2026-03-02 08:00")
        ticket = _as_new(desk)
        Ticket.objects.filter(pk=ticket.pk).update(**WARN_COLUMNS, **extra)
        return fresh(ticket)

    return open_before


def _as_new(desk) -> Ticket:
    return services.open_ticket(
        desk.john.user,
        requester=desk.ken,
        subject="Server down",
        message="Nothing answers.",
        department=desk.support,
        priority=desk.sev_a,
    )


def test_an_old_open_ticket_gets_the_warning_times_a_new_one_would(desk, before_warnings):
    old = before_warnings()
    new = _as_new(desk)

    assert warning_backfill.fill_warning_times() == 1

    old, new = fresh(old), fresh(new)
    # 75 % of 15 and 240 business minutes from Monday 09:00 CET (08:00 UTC).
    assert old.first_response_warn_at == new.first_response_warn_at == datetime(2026, 3, 2, 8, 11, tzinfo=UTC)
    assert old.resolution_warn_at == new.resolution_warn_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def test_an_old_ticket_is_warned_by_the_next_scan_once_its_warning_time_has_passed(
    desk, before_warnings, at, django_capture_on_commit_callbacks
):
    old = before_warnings()
    at("2026-03-02 08:12")
    assert breaches.run() == 0  # no warning time: nothing to warn about

    warning_backfill.fill_warning_times()
    with django_capture_on_commit_callbacks(execute=True):
        assert breaches.run() == 1

    warning = Event.objects.get(ticket=old, kind=EventKind.SLA_WARNING)
    assert warning.data["target"] == "first_response"


def test_an_agents_own_due_date_gets_a_warning_on_the_wall_clock(desk, before_warnings):
    old = before_warnings(due_is_manual=True, due_at=datetime(2026, 3, 2, 16, 0, tzinfo=UTC))

    warning_backfill.fill_warning_times()

    # 75 % of the eight hours left at 08:00 UTC.
    assert fresh(old).resolution_warn_at == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert fresh(old).due_at == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # the agent's date stays


def test_closed_answered_and_planless_tickets_are_left_alone(desk, before_warnings):
    closed = before_warnings(state="closed")
    planless = before_warnings(sla_plan=None, first_response_due_at=None, due_at=None)
    answered = before_warnings(first_response_at=datetime(2026, 3, 2, 8, 5, tzinfo=UTC))

    assert warning_backfill.fill_warning_times() == 1  # only the answered one's resolution

    assert fresh(closed).resolution_warn_at is None
    assert fresh(planless).resolution_warn_at is None
    assert fresh(planless).sla_plan is None  # it takes a plan at its next recomputation, not here
    assert fresh(answered).first_response_warn_at is None
    assert fresh(answered).resolution_warn_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def test_filling_in_leaves_no_event_and_no_new_version(desk, before_warnings):
    old = before_warnings()
    events_before = Event.objects.filter(ticket=old).count()

    warning_backfill.fill_warning_times()

    assert fresh(old).version == old.version
    assert fresh(old).updated_at == old.updated_at
    assert Event.objects.filter(ticket=old).count() == events_before


def test_batches_of_tickets_are_written_with_a_fixed_number_of_queries_each(desk, before_warnings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(6):
        before_warnings()
    warning_backfill.plans.catalogue()  # the plans' snapshot read once, outside the count

    seen = []
    with CaptureQueriesContext(connection) as queries:
        written = warning_backfill.fill_warning_times(batch_size=2, progress=lambda done, total: seen.append(done))

    assert written == 6
    assert seen == [2, 4, 6]
    assert not warning_backfill.missing_warnings().exists()
    # count, then per batch: ids, lock, one UPDATE (+ savepoints on some backends); then the empty read
    per_batch = (len(queries) - 2) / 3
    assert per_batch <= 10


def test_the_command_shows_its_progress_and_what_it_did(desk, before_warnings):
    before_warnings()
    before_warnings()
    out = StringIO()

    call_command("sla_fill_warnings", "--batch-size", "1", stdout=out)

    text = out.getvalue()
    assert "checked 2 / 2 tickets" in text
    assert "Warning times filled in for 2 tickets" in text
    assert not warning_backfill.missing_warnings().exists()


def test_migrating_queues_the_fill_in_as_a_background_task(desk, before_warnings):
    old = before_warnings()
    out = StringIO()

    warning_backfill.queue_after_migrate(verbosity=1, stdout=out)  # the immediate backend runs it here

    assert "Filling in SLA warning times" in out.getvalue()
    assert fresh(old).resolution_warn_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def test_migrating_a_desk_that_needs_nothing_queues_nothing(desk, office):
    _as_new(desk)
    out = StringIO()

    warning_backfill.queue_after_migrate(verbosity=1, stdout=out)

    assert out.getvalue() == ""
