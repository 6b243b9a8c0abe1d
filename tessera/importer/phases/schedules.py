"""osTicket's schedules (1.14+): business hours become Tessera schedules with weekly intervals,
holiday schedules become holiday calendars of concrete dates.

osTicket keeps holidays as rules ("the fourth Thursday of November"); Tessera keeps dates, so
the rules are expanded for the years an imported desk will count in: from last year (or the
rule's first year, if later) through five years ahead. The current year is part of a
schedule's fingerprint, so the first import of a new year extends the calendars again.
A schedule's entries come over inside it: an entry changed in osTicket updates its schedule.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.sla.models import Holiday, HolidayCalendar, Schedule, ScheduleInterval

from ..report import IMPORTED, UNCHANGED, UPDATED
from ..runner import Context, Skip, fingerprint, sync
from ..source import Row

BUSINESS_HOURS = 1  # schedule.flags: set for business hours, clear for holidays
MIDNIGHT = dt.time(0)
YEARS_BACK, YEARS_AHEAD = 1, 5
WEEKDAYS_OF = {"daily": range(7), "weekdays": range(5), "weekends": (5, 6)}
REPEATS = ("never", "daily", "weekly", "weekdays", "weekends", "monthly", "yearly")


@dataclass(frozen=True)
class Day:
    """One day off: `start`/`end` None mean from and until midnight."""

    date: dt.date
    name: str
    start: dt.time | None = None
    end: dt.time | None = None


def is_business_hours(row: Row) -> bool:
    return bool(int(row["flags"] or 0) & BUSINESS_HOURS)


def _time(value: Any) -> dt.time | None:
    """A TIME column (a timedelta from the driver) as a whole-minute time; 23:59:59 and 24:00
    are midnight, the end of the day."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
    elif isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
    else:
        try:
            hours, minutes, *rest = (int(part) for part in str(value).split(":"))
        except ValueError:
            return None
        seconds = hours * 3600 + minutes * 60 + (rest[0] if rest else 0)
    if seconds < 0:
        return None
    if seconds >= 24 * 3600 - 1:
        return MIDNIGHT
    return dt.time(seconds // 3600, seconds // 60 % 60)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None  # 0000-00-00 and the like


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def intervals_of(entry: Row) -> list[tuple[int, dt.time, dt.time]]:
    """The weekly intervals (weekday 0=Monday, from, until) of a business-hours entry; Skip
    with the reason when Tessera's repeating week cannot hold it."""
    repeats = entry["repeats"]
    start, end = _time(entry["starts_at"]), _time(entry["ends_at"])
    if repeats not in REPEATS:
        raise Skip(_("unknown repeat rule %(r)s") % {"r": repeats})
    if start is None or end is None:
        raise Skip(_("no start or end time"))
    if start == end and start != MIDNIGHT:
        raise Skip(_("it lasts no time"))
    if repeats == "weekly":
        day = _int(entry["day"])
        if day is None or not 1 <= day <= 7:
            raise Skip(_("a weekly entry without a weekday"))
        days: Any = (day - 1,)
    elif repeats in WEEKDAYS_OF:
        days = WEEKDAYS_OF[repeats]
    else:
        raise Skip(
            _("business hours that do not repeat every week (%(r)s) have no Tessera equivalent") % {"r": repeats}
        )
    return [(day, start, end) for day in days]


def _nth_weekday(year: int, month: int, weekday: int, week: int) -> dt.date | None:
    """The `week`-th `weekday` (0=Monday) of the month; week -1 is the last one."""
    days = [d for d in calendar.Calendar().itermonthdates(year, month) if d.month == month and d.weekday() == weekday]
    try:
        return days[week - 1] if week > 0 else days[week]
    except IndexError:
        return None


def _day_in(year: int, month: int, entry: Row) -> dt.date | None:
    day, week = _int(entry["day"]), _int(entry["week"])
    if day is None:
        return None
    if week:
        return _nth_weekday(year, month, day - 1, week) if 1 <= day <= 7 else None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None  # the 31st of a short month: osTicket skips it too


def holidays_of(entry: Row, this_year: int) -> list[Day]:
    """The concrete days off of a holiday entry; Skip with the reason when it has none."""
    repeats = entry["repeats"]
    name = (entry["name"] or _("Holiday")).strip()[:200]
    first, last = _date(entry["starts_on"]), _date(entry["ends_on"])
    start, end = _time(entry["starts_at"]), _time(entry["ends_at"])
    if repeats not in REPEATS:
        raise Skip(_("unknown repeat rule %(r)s") % {"r": repeats})
    if first is None:
        raise Skip(_("no start date"))
    closed_from = None if start in (None, MIDNIGHT) else start
    closed_until = None if end in (None, MIDNIGHT) else end
    if closed_from and closed_until and closed_until <= closed_from:
        raise Skip(_("it ends before it starts"))
    if repeats == "never":
        last = last if last and last >= first else first
        if (last - first).days > 366:
            raise Skip(_("a holiday longer than a year"))
        span = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        return [
            Day(day, name, closed_from if day == first else None, closed_until if day == last else None) for day in span
        ]
    if repeats not in ("monthly", "yearly"):
        raise Skip(_("a holiday repeating every week (%(r)s): put it in the business hours instead") % {"r": repeats})
    stops = _date(entry["stops_on"])
    years = range(max(first.year, this_year - YEARS_BACK), this_year + YEARS_AHEAD + 1)
    if repeats == "yearly":
        month = _int(entry["month"])
        if month is None or not 1 <= month <= 12:
            raise Skip(_("a yearly holiday without a month"))
        months = [(year, month) for year in years]
    else:
        months = [(year, month) for year in years for month in range(1, 13)]
    if _int(entry["day"]) is None:
        raise Skip(_("a repeating holiday without a day"))
    days = [_day_in(year, month, entry) for year, month in months]
    return [
        Day(day, name, closed_from, closed_until)
        for day in days
        if day is not None and day >= first and (stops is None or day <= stops)
    ]


def _zone(ctx: Context, row: Row) -> str:
    for name in (row.get("timezone"), getattr(ctx.source.zone, "key", None)):
        if name:
            try:
                zoneinfo.ZoneInfo(str(name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
            return str(name)
    return "UTC"


def holiday_links(ctx: Context) -> dict[int, list[int]]:
    """Business-hours schedule → its holiday schedules: osTicket keeps them in the config
    table, namespace `schedule.<id>`, key `configuration`, as {"holidays": [ids]}."""
    links: dict[int, list[int]] = {}
    for (namespace, key), value in ctx.source.config().items():
        if not namespace.startswith("schedule.") or key != "configuration":
            continue
        owner = _int(namespace.removeprefix("schedule."))
        try:
            found = (json.loads(value or "{}") or {}).get("holidays") or []
        except (ValueError, AttributeError):
            found = []
        if owner is not None:
            links[owner] = sorted({n for n in (_int(i) for i in found) if n})
    return links


def _unique(model: Any, name: str) -> str:
    from .configuration import _unique_name  # local import: configuration imports this module

    return _unique_name(model, name, 120)


def schedules(ctx: Context) -> None:
    src = ctx.source
    if not src.has("schedule"):
        return
    # Holiday schedules first: the business hours they are attached to look them up.
    rows = sorted(
        src.all(f"SELECT * FROM {src.t('schedule')} ORDER BY id"),  # noqa: S608  table names are ours
        key=lambda r: (is_business_hours(r), int(r["id"])),
    )
    entries: dict[int, list[Row]] = {}
    orphans: list[Row] = []
    if src.has("schedule_entry"):
        known = {int(r["id"]) for r in rows}
        for entry in src.all(f"SELECT * FROM {src.t('schedule_entry')} ORDER BY sort, id"):  # noqa: S608
            sid = int(entry["schedule_id"] or 0)
            (entries.setdefault(sid, []) if sid in known else orphans).append(entry)
        ctx.report.expect("schedule_entry", src.count("schedule_entry"))
    links = holiday_links(ctx)
    kinds = {int(r["id"]): is_business_hours(r) for r in rows}
    this_year = timezone.now().year
    ids = ctx.map("schedule")
    written: set[int] = set()  # schedules whose entries were read this run (imported or updated)
    lost: set[int] = set()  # schedules deleted in Tessera since they were imported

    def calendars_of(row: Row) -> list[int]:
        wanted = links.get(int(row["id"]), [])
        found = [ids[i] for i in wanted if i in ids and kinds.get(i) is False]
        if len(found) < len(wanted):
            ctx.report.note(
                "schedule", row["id"], _("holiday schedules %(ids)s were not found") % {"ids": sorted(wanted)}
            )
        return found

    def entry_outcomes(row: Row) -> Iterator[tuple[Row, Any]]:
        for entry in entries.get(int(row["id"]), []):
            try:
                yield entry, intervals_of(entry) if is_business_hours(row) else holidays_of(entry, this_year)
            except Skip as why:
                ctx.report.skip("schedule_entry", entry["id"], str(why))

    def fill(row: Row, target: int | None) -> int:
        name = (row["name"] or "").strip() or f"osTicket schedule {row['id']}"
        if is_business_hours(row):
            schedule = (
                Schedule.objects.filter(pk=target).first() if target else Schedule.objects.filter(name=name).first()
            )
            if schedule is None:
                if target:
                    lost.add(int(row["id"]))
                    raise Skip(_("the schedule was deleted in Tessera"))
                schedule = Schedule(name=_unique(Schedule, name))
            written.add(int(row["id"]))
            schedule.time_zone = _zone(ctx, row)
            schedule.save()
            schedule.intervals.all().delete()
            intervals: dict[tuple[int, dt.time, dt.time], None] = {}
            for _entry, found in entry_outcomes(row):
                intervals.update(dict.fromkeys(found))
                ctx.report.count("schedule_entry", IMPORTED if target is None else UPDATED)
            ScheduleInterval.objects.bulk_create(
                ScheduleInterval(schedule=schedule, weekday=day, start=start, end=end)
                for day, start, end in sorted(intervals)
            )
            if not intervals:
                ctx.report.note("schedule", row["id"], _("no working time: plans in it count no time"))
            return schedule.pk
        cal = (
            HolidayCalendar.objects.filter(pk=target).first()
            if target
            else HolidayCalendar.objects.filter(name=name).first()
        )
        if cal is None:
            if target:
                lost.add(int(row["id"]))
                raise Skip(_("the holiday calendar was deleted in Tessera"))
            cal = HolidayCalendar.objects.create(name=_unique(HolidayCalendar, name))
        written.add(int(row["id"]))
        cal.holidays.all().delete()
        days: dict[tuple[dt.date, str], Day] = {}
        for _entry, found in entry_outcomes(row):
            for day in found:
                days.setdefault((day.date, day.name), day)
            ctx.report.count("schedule_entry", IMPORTED if target is None else UPDATED)
        Holiday.objects.bulk_create(
            Holiday(calendar=cal, date=d.date, name=d.name, start=d.start, end=d.end) for d in days.values()
        )
        return cal.pk

    def update(row: Row, target: int) -> None:
        fill(row, target)

    def digest(row: Row) -> str:
        return fingerprint(row, entries.get(int(row["id"]), []), links.get(int(row["id"]), []), this_year)

    sync(
        ctx,
        "schedule",
        iter([rows]),
        pk="id",
        total=len(rows),
        create=lambda row: fill(row, None),
        update=update,
        digest=digest,
    )
    # Entries of unchanged (or skipped) schedules: account for each the way a rewrite would.
    for row in rows:
        sid = int(row["id"])
        if sid in written:
            continue
        if sid not in ids or sid in lost:
            reason = _("its schedule was not imported")
            for entry in entries.get(sid, []):
                ctx.report.skip("schedule_entry", entry["id"], reason)
            continue
        for _entry, _found in entry_outcomes(row):
            ctx.report.count("schedule_entry", UNCHANGED)
    # Calendars are attached once all are mapped (a batch maps its new rows only at its end).
    for row in rows:
        target = ids.get(int(row["id"]))
        if is_business_hours(row) and target and int(row["id"]) not in lost:
            schedule = Schedule.objects.filter(pk=target).first()
            if schedule is not None:
                schedule.calendars.set(calendars_of(row))
    for entry in orphans:
        ctx.report.skip("schedule_entry", entry["id"], _("its schedule does not exist"))
    _department_schedules(ctx)


def _department_schedules(ctx: Context) -> None:
    src = ctx.source
    if not src.has("department"):
        return
    for row in src.all(f"SELECT id, schedule_id FROM {src.t('department')} WHERE schedule_id > 0"):  # noqa: S608
        ctx.report.note(
            "department",
            row["id"],
            _("its own business-hours schedule is not imported: Tessera counts SLA time in the plan's schedule"),
        )


def business_schedule(ctx: Context, source_id: int) -> int | None:
    """The Tessera schedule imported from a business-hours schedule, if it was."""
    src = ctx.source
    if not source_id or not src.has("schedule"):
        return None
    key = "_business_schedules"
    if key not in ctx.maps:
        rows = src.all(f"SELECT id, flags FROM {src.t('schedule')}")  # noqa: S608
        ctx.maps[key] = {int(r["id"]): 1 for r in rows if is_business_hours(r)}
    if source_id not in ctx.maps[key]:
        return None
    return ctx.map("schedule").get(source_id)
