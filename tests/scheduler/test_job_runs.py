"""Runs of periodic jobs in one process: due times, retries with backoff, failures shown to
administrators with a way to run the job again, run records and their pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from django.urls import reverse

from tessera.scheduler import runner
from tessera.scheduler.models import JobRun, JobSchedule, JobState, RunOutcome

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def counted(jobs):
    calls: list[datetime | None] = []

    def count(now=None):
        calls.append(now)
        return len(calls)

    jobs("test.count", every=MINUTE, func=count)
    return calls


class Boom(RuntimeError):
    pass


@pytest.fixture
def flaky(jobs, settings):
    """A job that fails until told otherwise."""
    settings.TESSERA = {**settings.TESSERA, "JOB_ATTEMPTS": 3, "JOB_RETRY_SECONDS": 10}
    state = {"fail": True, "calls": 0}

    def run(now=None):
        state["calls"] += 1
        if state["fail"]:
            raise Boom("the mail server refused the login")
        return 3

    jobs("test.flaky", every=timedelta(hours=1), func=run)
    return state


def test_a_new_job_runs_at_once_then_once_per_interval(db, counted):
    assert [r.outcome for r in runner.run_due(T0, only=["test.count"])] == [RunOutcome.SUCCEEDED]
    assert runner.run_due(T0 + timedelta(seconds=59), only=["test.count"]) == []
    assert len(runner.run_due(T0 + MINUTE, only=["test.count"])) == 1
    assert len(counted) == 2


def test_a_scheduler_that_was_down_runs_a_job_once_not_once_per_missed_interval(db, counted):
    runner.run_due(T0, only=["test.count"])
    runner.run_due(T0 + 10 * MINUTE + timedelta(seconds=30), only=["test.count"])
    assert len(counted) == 2
    assert JobSchedule.objects.get(name="test.count").next_run_at == T0 + 11 * MINUTE


def test_a_run_already_claimed_is_not_run_again_by_a_second_scheduler(db, counted):
    runner.run_due(T0, only=["test.count"])
    schedule = JobSchedule.objects.get(name="test.count")
    job = runner.registry.get("test.count")
    # Two schedulers read the same due time; the first moves it on, the second finds it moved.
    assert runner.claim(job, T0 + MINUTE) is not None
    assert runner.claim(job, T0 + MINUTE) is None
    schedule.refresh_from_db()
    assert schedule.next_run_at == T0 + 2 * MINUTE


def test_each_run_is_recorded_with_its_outcome_duration_and_result(db, counted):
    runner.run_due(T0, only=["test.count"], worker="desk-1:42")
    run = JobRun.objects.get(job__name="test.count")
    assert run.outcome == RunOutcome.SUCCEEDED
    assert run.scheduled_for == T0
    assert run.finished_at >= run.started_at
    assert run.duration == run.finished_at - run.started_at
    assert run.acted_on == 1
    assert run.worker == "desk-1:42"
    assert run.error == ""


def _wait_after(schedule: JobSchedule, tried_at: datetime) -> timedelta:
    """The wait the runner chose, less the run's own (tiny) duration."""
    wait = schedule.next_run_at - tried_at
    assert timedelta(0) <= wait - timedelta(seconds=round(wait.total_seconds())) < timedelta(seconds=1)
    return timedelta(seconds=round(wait.total_seconds()))


def test_a_failing_job_is_retried_with_growing_waits_then_shown_as_failed(db, flaky):
    runner.run_due(T0, only=["test.flaky"])
    schedule = JobSchedule.objects.get(name="test.flaky")
    assert (schedule.state, schedule.attempts) == (JobState.RETRYING, 1)
    assert "Boom: the mail server refused the login" in schedule.last_error
    assert _wait_after(schedule, T0) == timedelta(seconds=10)

    tried = schedule.next_run_at
    runner.run_due(tried, only=["test.flaky"])
    schedule.refresh_from_db()
    assert (schedule.state, schedule.attempts) == (JobState.RETRYING, 2)
    assert _wait_after(schedule, tried) == timedelta(seconds=20)

    tried = schedule.next_run_at
    runner.run_due(tried, only=["test.flaky"])
    schedule.refresh_from_db()
    assert (schedule.state, schedule.attempts) == (JobState.FAILED, 3)
    # Given up on: tried again only at its interval or hourly, whichever is longer.
    assert _wait_after(schedule, tried) == timedelta(hours=1)
    runs = JobRun.objects.filter(job=schedule).order_by("started_at")
    assert [(r.attempt, r.outcome) for r in runs] == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert all("Boom: the mail server refused the login" in r.error for r in runs)
    assert flaky["calls"] == 3
    # Not due before its retry time: nothing runs in between.
    assert runner.run_due(schedule.next_run_at - timedelta(seconds=1), only=["test.flaky"]) == []


def test_the_next_success_clears_the_failure(db, flaky):
    runner.run_due(T0, only=["test.flaky"])
    flaky["fail"] = False
    schedule = JobSchedule.objects.get(name="test.flaky")
    runner.run_due(schedule.next_run_at, only=["test.flaky"])
    schedule.refresh_from_db()
    assert (schedule.state, schedule.attempts, schedule.last_error) == (JobState.OK, 0, "")


def test_administrators_see_failed_jobs_with_their_error_and_run_them_again(db, flaky, desk, client):
    for _attempt in range(3):
        due = JobSchedule.objects.filter(name="test.flaky").values_list("next_run_at", flat=True).first() or T0
        runner.run_due(due, only=["test.flaky"])
    client.force_login(desk.admin)

    index = client.get(reverse("admin:index")).content.decode()
    assert index.count(">System<") == 1, "task results and scheduled jobs share one System section"
    assert "Scheduled jobs" in index and "Job runs" in index

    page = client.get(reverse("admin:scheduler_jobschedule_changelist"), {"state__exact": "failed"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "test.flaky" in html
    assert "Boom: the mail server refused the login" in html

    flaky["fail"] = False
    schedule = JobSchedule.objects.get(name="test.flaky")
    response = client.post(
        reverse("admin:scheduler_jobschedule_changelist"),
        {"action": "run_again", "_selected_action": [schedule.pk]},
        follow=True,
    )
    assert "1 job will run within seconds" in response.content.decode()
    schedule.refresh_from_db()
    assert schedule.next_run_at <= runner.timezone.now()

    runner.run_due(only=["test.flaky"])
    schedule.refresh_from_db()
    assert schedule.state == JobState.OK
    page = client.get(reverse("admin:scheduler_jobschedule_changelist"), {"state__exact": "failed"})
    assert "test.flaky" not in page.content.decode()


def test_an_agent_who_is_not_an_administrator_cannot_run_jobs_again(db, flaky, desk, client):
    runner.run_due(T0, only=["test.flaky"])
    schedule = JobSchedule.objects.get(name="test.flaky")
    before = schedule.next_run_at
    client.force_login(desk.john.user)
    response = client.post(
        reverse("admin:scheduler_jobschedule_changelist"), {"action": "run_again", "_selected_action": [schedule.pk]}
    )
    assert response.status_code in (302, 403)
    schedule.refresh_from_db()
    assert schedule.next_run_at == before


def test_run_records_older_than_the_kept_days_are_pruned(db, counted, settings):
    settings.TESSERA = {**settings.TESSERA, "JOB_RUNS_KEEP_DAYS": 30}
    runner.run_due(T0, only=["test.count"])
    runner.run_due(T0 + timedelta(days=20), only=["test.count"])
    JobRun.objects.filter(scheduled_for=T0).update(started_at=T0)
    JobRun.objects.exclude(scheduled_for=T0).update(started_at=T0 + timedelta(days=20))
    assert runner.prune_runs(T0 + timedelta(days=31)) == 1
    assert list(JobRun.objects.values_list("started_at", flat=True)) == [T0 + timedelta(days=20)]


def test_run_scheduler_once_runs_what_is_due_and_refuses_an_unknown_job(db, counted):
    from django.core.management import CommandError, call_command

    call_command("run_scheduler", "--once", "--job", "test.count")
    assert len(counted) == 1
    with pytest.raises(CommandError, match=r"test\.nobody"):
        call_command("run_scheduler", "--once", "--job", "test.nobody")
