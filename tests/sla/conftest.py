"""Service-level fixtures: office hours in Berlin and a plan whose targets follow the priorities."""

from __future__ import annotations

from datetime import time
from types import SimpleNamespace

import pytest


@pytest.fixture
def office(desk):
    """Mon–Fri 09:00–17:00 in Europe/Berlin; "Standard" on it is the desk default, with Sev-A
    answered in 15 minutes and resolved in 4 hours, Sev-D in a business day and five."""
    from tessera.sla.models import Schedule, ScheduleInterval, SlaPlan, SlaTarget

    hours = Schedule.objects.create(name="Office hours", time_zone="Europe/Berlin")
    for weekday in range(5):
        ScheduleInterval.objects.create(schedule=hours, weekday=weekday, start=time(9), end=time(17))
    SlaPlan.objects.filter(is_default=True).update(is_default=False)
    standard = SlaPlan.objects.create(
        name="Standard", schedule=hours, first_response_minutes=240, resolution_minutes=1440, is_default=True
    )
    SlaTarget.objects.create(plan=standard, priority=desk.sev_a, first_response_minutes=15, resolution_minutes=240)
    SlaTarget.objects.create(plan=standard, priority=desk.sev_d, first_response_minutes=480, resolution_minutes=2400)
    # The migration's 24×7 schedule, made again when a transactional test truncated it.
    always, made = Schedule.objects.get_or_create(name="24×7", defaults={"time_zone": "UTC"})
    if made:
        for weekday in range(7):
            ScheduleInterval.objects.create(schedule=always, weekday=weekday, start=time(0), end=time(0))
    around_the_clock = SlaPlan.objects.create(
        name="On call", schedule=always, first_response_minutes=30, resolution_minutes=120
    )
    return SimpleNamespace(hours=hours, standard=standard, on_call=around_the_clock)


@pytest.fixture
def at(monkeypatch):
    """Freeze the services' clock: at("2026-03-02 10:00") (UTC) makes timezone.now() return it."""
    from datetime import UTC, datetime

    from django.utils import timezone

    def _at(text: str) -> datetime:
        moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return _at
