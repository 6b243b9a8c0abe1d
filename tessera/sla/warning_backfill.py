"""Warning times for the tickets a desk had before SLA warnings existed.

Migration tickets 0012 added the `*_warn_at` columns empty, so an open ticket opened before it
was never warned, only marked breached. `fill_warning_times` gives each such ticket the warning
its plan promises, with the same maths as a new ticket (`services/sla.sla_refresh`; an agent's own
due date the wall-clock share `manual_warn_at` uses). It runs as a background task queued after
`migrate` (`queue_after_migrate`, a post_migrate receiver: the current models and clock, never a
historical migration state), or by hand with `manage.py sla_fill_warnings`, which shows progress.

At a million tickets: the candidates are found by a filter on the active states (the
ticket_state_due index), walked by id in batches, each batch one transaction that locks its
rows and writes them with one UPDATE; memory stays flat, an interrupted run is simply run again,
and a ticket changed meanwhile by a service already has its warning and is no longer a candidate.
Tickets without a plan keep none: they take one at their next recomputation (docs/architecture.md).
Tests: tests/sla/test_warning_backfill.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.tasks import task
from django.utils import timezone

from tessera.tickets.models import ACTIVE_STATES, Ticket
from tessera.tickets.services.sla import manual_warn_at, sla_refresh

from . import plans

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
WARN_FIELDS = ("first_response_warn_at", "resolution_warn_at")

Progress = Callable[[int, int], None]  # (tickets done, tickets found at the start)


def missing_warnings() -> QuerySet[Ticket]:
    """Open and pending tickets with a due time but no warning time before it."""
    first_response = Q(first_response_at__isnull=True, first_response_due_at__isnull=False) & Q(
        first_response_warn_at__isnull=True
    )
    resolution = Q(due_at__isnull=False, resolution_warn_at__isnull=True)
    has_plan_or_own_date = Q(sla_plan__isnull=False) | Q(due_is_manual=True)
    return Ticket.objects.filter(has_plan_or_own_date, first_response | resolution, state__in=ACTIVE_STATES)


def _fill(ticket: Ticket, now: Any) -> set[str]:
    changed: set[str] = set()
    if ticket.sla_plan_id is not None:
        changed.update(sla_refresh(ticket, now))
    if ticket.due_is_manual and ticket.due_at is not None and ticket.resolution_warn_at is None:
        ticket.resolution_warn_at = (
            manual_warn_at(ticket.sla_plan_id, ticket.due_at, now) if ticket.due_at > now else ticket.due_at
        )
        changed.add("resolution_warn_at")
    return changed


def fill_warning_times(*, batch_size: int = BATCH_SIZE, progress: Progress | None = None) -> int:
    """Give every candidate its warning times; return how many tickets were written."""
    plans.catalogue.forget()
    candidates = missing_warnings().order_by("pk")
    total = candidates.count()
    done = written = last = 0
    while True:
        ids = list(candidates.filter(pk__gt=last).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        now = timezone.now()
        with transaction.atomic():
            locked = list(
                Ticket.objects.select_for_update(of=("self",)).select_related("topic", "department").filter(pk__in=ids)
            )
            fields: set[str] = set()
            touched = []
            for ticket in locked:
                changed = _fill(ticket, now)
                if changed:
                    fields |= changed
                    touched.append(ticket)
            if touched:
                # One UPDATE for the batch; a column one ticket did not change is written as it was.
                Ticket.objects.bulk_update(touched, sorted(fields), batch_size=batch_size)
        written += len(touched)
        done += len(ids)
        last = ids[-1]
        if progress is not None:
            progress(done, total)
    return written


@task()
def fill_warning_times_task() -> int:
    written = fill_warning_times()
    log.info("SLA warning times filled in for %d tickets opened before warnings existed", written)
    return written


def queue_after_migrate(*, verbosity: int = 1, **kwargs: Any) -> None:
    """post_migrate: queue the backfill when some tickets still lack warning times (one cheap
    EXISTS; nothing is queued on a desk that needs nothing, so migrating again costs nothing)."""
    try:
        needed = missing_warnings().exists()
    except Exception:  # a partial migrate (`migrate sla 0001`) may leave the ticket table behind
        log.debug("Not checking SLA warning times: the tables are not ready", exc_info=True)
        return
    if not needed:
        return
    stdout = kwargs.get("stdout")
    if verbosity and stdout is not None:
        stdout.write("  Filling in SLA warning times of tickets opened before warnings existed (a background task).\n")
    try:
        fill_warning_times_task.enqueue()
    except Exception:
        log.exception("Could not queue the SLA warning backfill; run `manage.py sla_fill_warnings`")
