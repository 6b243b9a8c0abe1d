"""The registry every app adds its periodic jobs to."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tessera.scheduler import registry


def test_the_desks_existing_jobs_are_registered_by_their_apps():
    every = {name: job.every for name, job in registry.jobs().items()}
    assert every["mail.poll_mailboxes"] == timedelta(minutes=1)
    assert every["mail.retry_outbound"] == timedelta(minutes=1)
    assert every["mail.retry_inbound"] == timedelta(minutes=5)
    assert every["accounts.prune_lockouts"] == timedelta(hours=1)
    assert every["scheduler.prune_runs"] == timedelta(hours=6)
    assert every["automation.escalation"] == timedelta(minutes=1)
    assert every["automation.auto_close"] == timedelta(minutes=15)
    assert every["automation.prune_runs"] == timedelta(hours=6)
    assert every["sla.breaches"] == timedelta(minutes=1)
    for job in registry.jobs().values():
        assert callable(job.resolve()), job.name


def test_a_job_is_found_by_name_and_called_with_the_time(jobs):
    seen = []
    jobs("test.called", every=timedelta(seconds=5), func=lambda now=None: seen.append(now) or 7)
    job = registry.get("test.called")
    assert job(now="at") == 7
    assert seen == ["at"]


def test_registering_the_same_job_twice_is_harmless_but_two_jobs_cannot_share_a_name(jobs):
    def first(now=None):
        return 0

    jobs("test.twice", every=timedelta(minutes=1), func=first)
    registry.register("test.twice", every=timedelta(minutes=1), func=first)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("test.twice", every=timedelta(minutes=2), func=first)


@pytest.mark.parametrize("every", [timedelta(0), timedelta(seconds=-1)])
def test_a_job_needs_a_positive_interval(every):
    with pytest.raises(ValueError, match="positive interval"):
        registry.register("test.never", every=every, func=lambda now=None: 0)
    assert "test.never" not in registry.jobs()


def test_an_unknown_job_is_a_clear_error():
    with pytest.raises(LookupError, match=r"test\.nobody"):
        registry.get("test.nobody")
