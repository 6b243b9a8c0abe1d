"""Business time: how far a number of working minutes reaches, and how many lie between two times.

Pure functions over a `ScheduleSnapshot` (no ORM), because a due time is computed inside the
services' transactions for every new ticket and every schedule change recomputes thousands.

A schedule's week is a set of local minute ranges per weekday in its own time zone; a day's
working windows are those ranges minus the day's holidays, turned into UTC instants one day at
a time, so a working minute is a real minute: the 24×7 schedule has 23 hours on the day clocks
spring forward and 25 on the day they fall back. Whole weeks without a holiday or a change of
UTC offset are skipped arithmetically, so a target of months costs a few hundred steps at most.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
MINUTE = timedelta(minutes=1)
# A calendar could, in theory, close every working day for decades; past this the search stops.
HORIZON_DAYS = 366 * 50

Range = tuple[int, int]  # [start, end) in minutes after local midnight, 0 <= start < end <= 1440


class NoWorkingTime(ValueError):
    """The schedule never works (no intervals, or holidays closing everything ahead)."""


def _merge(ranges: Iterable[Range]) -> tuple[Range, ...]:
    merged: list[list[int]] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def _subtract(ranges: Sequence[Range], closed: Sequence[Range]) -> tuple[Range, ...]:
    result: list[Range] = []
    for start, end in ranges:
        pieces = [(start, end)]
        for c_start, c_end in closed:
            pieces = [
                piece
                for p_start, p_end in pieces
                for piece in ((p_start, min(p_end, c_start)), (max(p_start, c_end), p_end))
                if piece[1] > piece[0]
            ]
        result.extend(pieces)
    return tuple(result)


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


@dataclass(frozen=True)
class ScheduleSnapshot:
    """A schedule as plain data: `week[weekday]` (Monday = 0) holds that day's working ranges,
    `holidays[date]` the ranges closed on that local date."""

    zone: ZoneInfo
    week: tuple[tuple[Range, ...], ...]
    holidays: Mapping[date, tuple[Range, ...]] = field(default_factory=dict)
    _holiday_dates: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("A week has seven days.")
        object.__setattr__(self, "_holiday_dates", tuple(sorted(self.holidays)))

    @classmethod
    def build(
        cls,
        zone: str | ZoneInfo,
        intervals: Iterable[tuple[int, time, time]],
        holidays: Iterable[tuple[date, time | None, time | None]] = (),
    ) -> ScheduleSnapshot:
        """From (weekday, start, end) intervals, where end <= start runs past midnight into the
        next day and 00:00–00:00 is the whole day, and (date, start, end) holidays, where no
        start means from midnight and no end (or 00:00) means until midnight."""
        days: list[list[Range]] = [[] for _ in range(7)]
        for weekday, start, end in intervals:
            s, e = _minutes(start), _minutes(end)
            if e > s:
                days[weekday].append((s, e))
            else:
                # Crosses midnight (00:00–00:00 being the whole day): the rest of the day, then the next morning.
                days[weekday].append((s, MINUTES_PER_DAY))
                if e > 0:
                    days[(weekday + 1) % 7].append((0, e))
        closed: dict[date, list[Range]] = {}
        for day, closed_from, closed_until in holidays:
            s = _minutes(closed_from) if closed_from is not None else 0
            e = _minutes(closed_until) if closed_until is not None and _minutes(closed_until) > 0 else MINUTES_PER_DAY
            closed.setdefault(day, []).append((s, e) if e > s else (0, MINUTES_PER_DAY))
        return cls(
            zone=zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone),
            week=tuple(_merge(d) for d in days),
            holidays={day: _merge(ranges) for day, ranges in closed.items()},
        )

    @property
    def weekly_minutes(self) -> int:
        return sum(end - start for day in self.week for start, end in day)

    def local_ranges(self, day: date) -> tuple[Range, ...]:
        ranges = self.week[day.weekday()]
        closed = self.holidays.get(day)
        return _subtract(ranges, closed) if closed else ranges

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working windows as UTC instants, in order and without overlaps.

        Local times that do not exist (the hour skipped in spring) are read with the offset
        before the change, as zoneinfo does; a window squeezed to nothing by it is dropped."""
        midnight = datetime.combine(day, time())
        found: list[tuple[datetime, datetime]] = []
        for start, end in self.local_ranges(day):
            utc_start = self._utc(midnight + timedelta(minutes=start))
            utc_end = self._utc(midnight + timedelta(minutes=end))
            if found and utc_start < found[-1][1]:
                utc_start = found[-1][1]
            if utc_end > utc_start:
                found.append((utc_start, utc_end))
        return found

    def _utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def has_holiday_in(self, first: date, last: date) -> bool:
        """Is any holiday on a date in [first, last)?"""
        i = bisect.bisect_left(self._holiday_dates, first)
        return i < len(self._holiday_dates) and self._holiday_dates[i] < last

    def plain_week(self, first: date) -> bool:
        """Do the seven days from `first` work exactly the nominal week: no holiday, and the same
        UTC offset at each local midnight (so no daylight-saving change in between)?"""
        end = first + timedelta(days=7)
        if self.has_holiday_in(first, end):
            return False
        midnights = [self._utc(datetime.combine(first + timedelta(days=i), time())) for i in range(8)]
        return all(b - a == timedelta(days=1) for a, b in itertools.pairwise(midnights))


def _require_working_time(schedule: ScheduleSnapshot) -> None:
    if schedule.weekly_minutes == 0:
        raise NoWorkingTime("The schedule has no working hours on any day of the week.")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("Business time needs aware datetimes.")
    return moment.astimezone(UTC)


def _midnight_utc(schedule: ScheduleSnapshot, day: date) -> datetime:
    return datetime.combine(day, time()).replace(tzinfo=schedule.zone).astimezone(UTC)


def add_business_minutes(start: datetime, minutes: int, schedule: ScheduleSnapshot) -> datetime:
    """The moment `minutes` working minutes after `start` (in UTC). A start outside working
    hours begins at the next window; the result ends inside a window, or at its end."""
    if minutes < 0:
        raise ValueError("Business minutes to add cannot be negative.")
    return _add(_aware(start), timedelta(minutes=minutes), schedule)


def _add(start: datetime, remaining: timedelta, schedule: ScheduleSnapshot) -> datetime:
    if remaining <= timedelta(0):
        return start
    _require_working_time(schedule)
    week = timedelta(minutes=schedule.weekly_minutes)
    # From the day before: its windows end at local midnight, which an offset change can move past `start`.
    day = schedule.local_date(start) - timedelta(days=1)
    # The guard counts days in a row without a working minute (holidays closing everything), not
    # days in all: a schedule with little working time per week may rightly need decades.
    idle_days = 0
    while idle_days < HORIZON_DAYS:
        if remaining > week and _midnight_utc(schedule, day) >= start and schedule.plain_week(day):
            remaining -= week
            day += timedelta(days=7)
            idle_days = 0
            continue
        idle_days += 1
        for window_start, window_end in schedule.windows(day):
            if window_end <= start:
                continue
            begin = max(window_start, start)
            available = window_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            idle_days = 0
        day += timedelta(days=1)
    raise NoWorkingTime("The schedule's holidays close every working day for decades ahead.")


def business_time_between(a: datetime, b: datetime, schedule: ScheduleSnapshot) -> timedelta:
    """The working time in [a, b); nothing when b is not after a."""
    a, b = _aware(a), _aware(b)
    if b <= a:
        return timedelta(0)
    total = timedelta(0)
    week = timedelta(minutes=schedule.weekly_minutes)
    day = schedule.local_date(a) - timedelta(days=1)
    last = schedule.local_date(b) + timedelta(days=1)
    while day <= last:
        if _midnight_utc(schedule, day) >= a and day + timedelta(days=8) <= last and schedule.plain_week(day):
            total += week
            day += timedelta(days=7)
            continue
        for window_start, window_end in schedule.windows(day):
            begin, end = max(window_start, a), min(window_end, b)
            if end > begin:
                total += end - begin
        day += timedelta(days=1)
    return total


def business_minutes_between(a: datetime, b: datetime, schedule: ScheduleSnapshot) -> int:
    """Whole working minutes in [a, b)."""
    return int(business_time_between(a, b, schedule) // MINUTE)


def add_with_pauses(
    start: datetime, minutes: int, schedule: ScheduleSnapshot, pauses: Sequence[tuple[datetime, datetime]]
) -> datetime:
    """Like add_business_minutes, but the clock stands still during each (from, to) pause: the
    moment when `minutes` of unpaused working time have run since `start`. A pause that begins
    after that moment changes nothing."""
    if minutes < 0:
        raise ValueError("Business minutes to add cannot be negative.")
    moment, remaining = _aware(start), timedelta(minutes=minutes)
    for pause_start, pause_end in sorted((_aware(s), _aware(e)) for s, e in pauses):
        if pause_end <= moment:
            continue
        if pause_start > moment:
            running = business_time_between(moment, pause_start, schedule)
            if remaining <= running:
                break
            remaining -= running
        moment = max(moment, pause_end)
    return _add(moment, remaining, schedule)
