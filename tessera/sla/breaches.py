"""The SLA scan: warn before a target falls due, and mark and announce the ones missed.

A periodic job (`run`, registered with the scheduler by the coordinator). Each pass asks four
questions, one partial index each (Ticket.Meta, ticket_sla_*): which open tickets passed their
first-response or resolution due time, or the warning time before it, and are not marked so
yet. The warning times are columns kept by the ticket services (sla_refresh), so no business
hours are counted here. Each ticket found is handed to `services.record_sla_alert`, whose
conditional UPDATE makes sure one alert goes out however many workers scan at once.

Paused (pending) tickets are not open, so they are neither warned nor breached; their clock
stopped. Tests: tests/sla/test_breaches.py; timing at a million tickets: bench/sla_scan.py.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from tessera.tickets import services

# Per question and pass: a backlog (a desk that was down a day) drains over a few passes
# instead of one pass holding a worker for minutes.
BATCH = 500

# (target, breach): breaches first, so a target already missed gets its breach alert, and its
# overdue warning is then marked without a word.
QUESTIONS = (("first_response", True), ("resolution", True), ("first_response", False), ("resolution", False))


def candidates(now: datetime, limit: int = BATCH) -> dict[tuple[str, bool], list[int]]:
    """The ticket ids each question finds, soonest due first (read only: the bench times this)."""
    return {
        (target, breach): list(
            services.pending_alerts(target, breach=breach, now=now).values_list("pk", flat=True)[:limit]
        )
        for target, breach in QUESTIONS
    }


def run(now: datetime | None = None) -> int:
    """One pass; returns how many warnings and breaches it announced."""
    now = now or timezone.now()
    acted = 0
    for target, breach in QUESTIONS:
        ids = services.pending_alerts(target, breach=breach, now=now).values_list("pk", flat=True)[:BATCH]
        for ticket_id in list(ids):
            if services.record_sla_alert(ticket_id, target, breach=breach, now=now):
                acted += 1
    return acted
