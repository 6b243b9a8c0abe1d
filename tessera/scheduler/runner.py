"""Run the periodic jobs that are due, each interval once across every scheduler process.

How a run is claimed: the scheduler reads the job's `next_run_at` and, when it has passed, moves
it to the job's next slot with `UPDATE … WHERE name = %s AND next_run_at = <the value read>`. Of
several processes that read the same value only one such UPDATE changes a row; the others see
zero rows changed and leave the run alone. This is a plain compare-and-set, so it holds on SQLite
and PostgreSQL alike and needs no lock held while the job runs. A process that dies mid-run has
already moved the job to its next slot: the job carries on there, and its run record stays
"running" until pruned.

A job that raises is tried again after a wait that doubles each time (JOB_RETRY_SECONDS, capped
at an hour); after JOB_ATTEMPTS failures in a row it is marked failed, listed with its error
under "System → Scheduled jobs" in the admin, and tried only at its interval or hourly, whichever
is longer, until it succeeds or an administrator runs it again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Min, QuerySet
from django.utils import timezone

from . import registry
from .models import JobRun, JobSchedule, JobState, RunOutcome

log = logging.getLogger(__name__)

BACKOFF_CAP = timedelta(hours=1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def _setting(key: str, default: int) -> int:
    return int(settings.TESSERA.get(key, default))


def backoff(attempts: int) -> timedelta:
    """The wait before retry number `attempts` (1, 2, …): JOB_RETRY_SECONDS, doubling, capped."""
    wait: timedelta = timedelta(seconds=_setting("JOB_RETRY_SECONDS", 30)) * 2 ** max(attempts - 1, 0)
    return min(wait, BACKOFF_CAP)


def next_slot(due: datetime, every: timedelta, now: datetime) -> datetime:
    """The first of due, due + every, due + 2·every, … that lies after `now`: a scheduler that
    was down for a while runs a job once, not once per missed interval."""
    if due > now:
        return due
    missed = (now - due) // every
    return due + every * (missed + 1)


def _selected(only: Iterable[str] | None) -> list[registry.Job]:
    jobs = registry.jobs()
    if only is None:
        return list(jobs.values())
    return [registry.get(name) for name in only]


def ensure_schedules(jobs: Iterable[registry.Job], now: datetime) -> None:
    """A row per job; a job seen for the first time is due at once. Several processes may insert
    the same rows at the same time: the unique name keeps one."""
    names = {job.name for job in jobs}
    known = set(JobSchedule.objects.filter(name__in=names).values_list("name", flat=True))
    missing = [JobSchedule(name=name, next_run_at=now) for name in sorted(names - known)]
    if missing:
        JobSchedule.objects.bulk_create(missing, ignore_conflicts=True)


def claim(job: registry.Job, now: datetime) -> tuple[JobSchedule, datetime] | None:
    """Take the run that is due, or None when it is not due or another process took it."""
    row = JobSchedule.objects.filter(name=job.name).values_list("next_run_at", flat=True).first()
    if row is None or row > now:
        return None
    due = row
    taken = JobSchedule.objects.filter(name=job.name, next_run_at=due).update(
        next_run_at=next_slot(due, job.every, now), last_started_at=now
    )
    if not taken:
        return None
    return JobSchedule.objects.get(name=job.name), due


def run_due(
    now: datetime | None = None, *, only: Iterable[str] | None = None, worker: str | None = None
) -> list[JobRun]:
    """Run every selected job whose time has come (and that no other process claimed first)."""
    now = now or timezone.now()
    jobs = _selected(only)
    ensure_schedules(jobs, now)
    runs = []
    for job in jobs:
        claimed = claim(job, now)
        if claimed is not None:
            schedule, due = claimed
            runs.append(execute(job, schedule, due, worker or worker_name(), now))
    return runs


def execute(
    job: registry.Job, schedule: JobSchedule, due: datetime, worker: str, now: datetime | None = None
) -> JobRun:
    """Run a claimed job once and record how it went. Records carry the clock's times; the next
    due time after a failure counts from `now` (the scheduler's time, which tests set)."""
    started = timezone.now()
    run = JobRun.objects.create(
        job=schedule, scheduled_for=due, started_at=started, attempt=schedule.attempts + 1, worker=worker
    )
    try:
        acted_on = job(now=started)
    except BaseException as exc:
        error = traceback.format_exc()
        _failed(job, run, error, (now or started) + (timezone.now() - started))
        if not isinstance(exc, Exception):
            raise  # Ctrl-C, SystemExit: recorded, then the process stops as asked
        log.warning("Job %s failed (attempt %s): %s", job.name, run.attempt, exc)
        return run
    finished = timezone.now()
    run.finished_at, run.duration, run.outcome = finished, finished - started, RunOutcome.SUCCEEDED
    run.acted_on = acted_on if isinstance(acted_on, int) else None
    run.save(update_fields=["finished_at", "duration", "outcome", "acted_on"])
    JobSchedule.objects.filter(pk=schedule.pk).update(
        state=JobState.OK, attempts=0, last_error="", last_finished_at=finished
    )
    return run


def _failed(job: registry.Job, run: JobRun, error: str, ended: datetime) -> None:
    finished = timezone.now()
    run.finished_at, run.duration = finished, finished - run.started_at
    run.outcome, run.error = RunOutcome.FAILED, error
    run.save(update_fields=["finished_at", "duration", "outcome", "error"])
    with transaction.atomic():
        schedule = JobSchedule.objects.select_for_update().get(pk=run.job_id)
        schedule.attempts += 1
        gave_up = schedule.attempts >= _setting("JOB_ATTEMPTS", 5)
        wait = max(job.every, BACKOFF_CAP) if gave_up else backoff(schedule.attempts)
        schedule.state = JobState.FAILED if gave_up else JobState.RETRYING
        schedule.last_error = error
        schedule.last_finished_at = finished
        # An administrator's "run again now" during the run wins over the planned retry.
        if schedule.next_run_at > ended:
            schedule.next_run_at = ended + wait
        schedule.save(update_fields=["attempts", "state", "last_error", "last_finished_at", "next_run_at"])


def run_again_now(schedules: QuerySet[JobSchedule], now: datetime | None = None) -> int:
    """Make jobs due at once (the admin's retry); the next scheduler tick runs them."""
    return schedules.update(next_run_at=now or timezone.now())


def next_due(only: Iterable[str] | None = None) -> datetime | None:
    names = [job.name for job in _selected(only)]
    earliest: datetime | None = JobSchedule.objects.filter(name__in=names).aggregate(at=Min("next_run_at"))["at"]
    return earliest


def prune_runs(now: datetime | None = None) -> int:
    """Forget run records older than JOB_RUNS_KEEP_DAYS (a periodic job itself)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=_setting("JOB_RUNS_KEEP_DAYS", 30))
    deleted: int = JobRun.objects.filter(started_at__lt=cutoff).delete()[0]
    return deleted


def loop(stop: threading.Event, *, only: Iterable[str] | None = None, tick: float = 5.0) -> None:
    """Run due jobs until `stop` is set, waking when the next job is due (at most `tick` s later).

    A database outage is logged and waited out: the next round reconnects."""
    selected = None if only is None else list(only)
    worker = worker_name()
    while not stop.is_set():
        wait = tick
        try:
            run_due(only=selected, worker=worker)
            upcoming = next_due(selected)
            if upcoming is not None:
                wait = min(tick, max((upcoming - timezone.now()).total_seconds(), 0.05))
        except Exception:
            log.exception("The scheduler could not run its jobs; trying again in %s s", tick)
        close_old_connections()
        stop.wait(wait)
