"""The periodic jobs of the desk, each registered once by the app that owns it.

Why a registry: the scheduler (`manage.py run_scheduler`) must know every job without importing
the apps that own them, and an app adds a job by calling `register()` from its
`AppConfig.ready()`, as the mail carrier registers itself with the ticket core. A job is a plain
function `run(now: datetime | None = None) -> int` (how many items it acted on), idempotent and
safe to run in several processes at once; the scheduler sees to it that each interval starts it
once (tessera/scheduler/runner.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.module_loading import import_string

JobFunc = Callable[..., int | None]

MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    func: JobFunc | str

    def resolve(self) -> JobFunc:
        """The callable; a dotted path is imported on first use, so registering costs no import."""
        if isinstance(self.func, str):
            func: JobFunc = import_string(self.func)
            return func
        return self.func

    def __call__(self, now: datetime | None = None) -> int | None:
        return self.resolve()(now=now)


_jobs: dict[str, Job] = {}


def register(name: str, *, every: timedelta, func: JobFunc | str) -> Job:
    """Add a periodic job. Registering the same job again (a second `ready()`) is harmless; a
    different job under a taken name is a mistake that would silently drop one of them."""
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"A job name has 1 to {MAX_NAME_LENGTH} characters: {name!r}")
    if every <= timedelta(0):
        raise ValueError(f"Job {name!r} must run at a positive interval, not {every}")
    job = Job(name=name, every=every, func=func)
    known = _jobs.get(name)
    if known is not None and known != job:
        raise ValueError(f"Another job is already registered as {name!r}: {known}")
    _jobs[name] = job
    return job


def unregister(name: str) -> None:
    _jobs.pop(name, None)


def jobs() -> dict[str, Job]:
    """Every registered job by name (a copy: callers cannot change the registry by accident)."""
    return dict(_jobs)


def get(name: str) -> Job:
    try:
        return _jobs[name]
    except KeyError:
        raise LookupError(f"No periodic job is registered as {name!r}") from None
