"""Which plan a ticket follows and when its targets fall due: read once, computed in Python.

Every new ticket needs the plans, their targets and their schedules' hours and holidays, so they
are read as one `Catalogue` of plain snapshots through `tessera.process_memo` (at most every 30 s
per process, forgotten at once when this process saves one of those rows). The ticket services
(tessera/tickets/services/sla.py) decide when to call these; nothing here writes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models.signals import m2m_changed

from tessera import process_memo

from . import clock
from .models import Holiday, Schedule, ScheduleInterval, SlaPlan, SlaTarget

logger = logging.getLogger(__name__)

# The share of a target after which the assignee is warned, for a due date without a plan.
DEFAULT_WARN_PERCENT = 75


@dataclass(frozen=True)
class PlanSnapshot:
    id: int
    name: str
    is_active: bool
    schedule_id: int
    first_response_minutes: int
    resolution_minutes: int
    by_priority: Mapping[int, tuple[int, int]] = field(default_factory=dict)
    warn_percent: int = DEFAULT_WARN_PERCENT

    def targets(self, priority_id: int | None) -> tuple[int, int]:
        """(first response, resolution) working minutes for a priority: its own, else the plan's."""
        if priority_id is not None and priority_id in self.by_priority:
            return self.by_priority[priority_id]
        return self.first_response_minutes, self.resolution_minutes


@dataclass(frozen=True)
class Catalogue:
    plans: Mapping[int, PlanSnapshot]
    schedules: Mapping[int, clock.ScheduleSnapshot]
    default_plan_id: int | None


def load_schedules(schedule_ids: Sequence[int] | None = None) -> dict[int, clock.ScheduleSnapshot]:
    """Snapshots of the schedules (all, or those named), three queries whatever their size."""
    schedules = Schedule.objects.all() if schedule_ids is None else Schedule.objects.filter(pk__in=schedule_ids)
    zones = dict(schedules.values_list("pk", "time_zone"))
    intervals: dict[int, list[tuple[int, time, time]]] = {pk: [] for pk in zones}
    for schedule_id, weekday, start, end in ScheduleInterval.objects.filter(schedule_id__in=zones).values_list(
        "schedule_id", "weekday", "start", "end"
    ):
        intervals[schedule_id].append((weekday, start, end))
    holidays: dict[int, list[tuple[date, time | None, time | None]]] = {pk: [] for pk in zones}
    for schedule_id, day, closed_from, closed_until in Holiday.objects.filter(
        calendar__schedules__in=zones
    ).values_list("calendar__schedules", "date", "start", "end"):
        holidays[schedule_id].append((day, closed_from, closed_until))
    return {pk: clock.ScheduleSnapshot.build(zone, intervals[pk], holidays[pk]) for pk, zone in zones.items()}


@process_memo.memo(
    "sla.SlaPlan", "sla.SlaTarget", "sla.Schedule", "sla.ScheduleInterval", "sla.Holiday", "sla.HolidayCalendar"
)
def catalogue() -> Catalogue:
    """Every plan and schedule as plain data (five queries, read at most every 30 s per process)."""
    targets: dict[int, dict[int, tuple[int, int]]] = {}
    for plan_id, priority_id, first, resolution in SlaTarget.objects.values_list(
        "plan_id", "priority_id", "first_response_minutes", "resolution_minutes"
    ):
        targets.setdefault(plan_id, {})[priority_id] = (first, resolution)
    plans = {
        plan.pk: PlanSnapshot(
            id=plan.pk,
            name=plan.name,
            is_active=plan.is_active,
            schedule_id=plan.schedule_id,
            first_response_minutes=plan.first_response_minutes,
            resolution_minutes=plan.resolution_minutes,
            by_priority=targets.get(plan.pk, {}),
            warn_percent=plan.warn_percent,
        )
        for plan in SlaPlan.objects.all()
    }
    default = next((p.pk for p in SlaPlan.objects.filter(is_default=True, is_active=True)), None)
    return Catalogue(plans=plans, schedules=load_schedules(), default_plan_id=default)


def forget_on_calendar_links() -> None:
    """Attaching a calendar to a schedule saves no row the memo watches: forget on that too."""

    def forget(**kwargs: object) -> None:
        catalogue.forget()

    m2m_changed.connect(forget, sender=Schedule.calendars.through, weak=False, dispatch_uid="sla-calendar-links")


def resolve_plan(*candidates: int | None) -> int | None:
    """The first active plan among `candidates` (help topic's, then department's; a routing
    rule's will come first), else the desk default."""
    found = catalogue()
    for plan_id in (*candidates, found.default_plan_id):
        plan = found.plans.get(plan_id) if plan_id is not None else None
        if plan is not None and plan.is_active:
            return plan.id
    return None


@dataclass(frozen=True)
class DueTimes:
    first_response: datetime | None
    resolution: datetime | None
    # When the warning before each falls due: the plan's warning share of the target, counted
    # in the same business hours.
    first_response_warn: datetime | None = None
    resolution_warn: datetime | None = None


def warn_percent(plan_id: int | None) -> int:
    plan = catalogue().plans.get(plan_id) if plan_id is not None else None
    return plan.warn_percent if plan is not None else DEFAULT_WARN_PERCENT


def due_times(
    plan_id: int | None,
    priority_id: int | None,
    started: datetime,
    pauses: Sequence[tuple[datetime, datetime]] = (),
) -> DueTimes:
    """When the plan's targets fall due for a ticket opened at `started` whose clock stood still
    during `pauses`. No plan (or a plan deleted meanwhile): nothing is due."""
    found = catalogue()
    plan = found.plans.get(plan_id) if plan_id is not None else None
    if plan is None:
        return DueTimes(None, None)
    schedule = found.schedules[plan.schedule_id]
    first, resolution = plan.targets(priority_id)
    share = plan.warn_percent
    try:
        return DueTimes(
            clock.add_with_pauses(started, first, schedule, pauses),
            clock.add_with_pauses(started, resolution, schedule, pauses),
            clock.add_with_pauses(started, first * share // 100, schedule, pauses),
            clock.add_with_pauses(started, resolution * share // 100, schedule, pauses),
        )
    except clock.NoWorkingTime:
        # The admin refuses such a schedule for a plan; one emptied since must not stop intake.
        logger.warning("SLA plan %s: its schedule has no working time, so nothing is due", plan.name)
        return DueTimes(None, None)
