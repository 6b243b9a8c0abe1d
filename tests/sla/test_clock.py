"""Business-time maths: what a due time means, checked as properties over random schedules
(daylight-saving zones, holidays, intervals past midnight, pauses, long targets) and on the
days people ask about."""

from __future__ import annotations

import time as stopwatch
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.sla.clock import (
    NoWorkingTime,
    ScheduleSnapshot,
    add_business_minutes,
    add_with_pauses,
    business_minutes_between,
    business_time_between,
)

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"]
OFFICE = [(d, time(9), time(17)) for d in range(5)]
SECOND = timedelta(seconds=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def clock_time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


intervals = st.lists(
    st.tuples(
        st.integers(0, 6),
        st.integers(0, 95).map(lambda q: clock_time(q * 15)),
        st.integers(0, 95).map(lambda q: clock_time(q * 15)),
    ).filter(lambda i: i[1] != i[2] or i[1] == time(0)),
    min_size=1,
    max_size=6,
)
holidays = st.lists(
    st.tuples(
        st.dates(date(2026, 1, 1), date(2026, 12, 31)),
        st.one_of(st.none(), st.integers(0, 47).map(lambda h: clock_time(h * 30))),
        st.one_of(st.none(), st.integers(1, 48).map(lambda h: clock_time((h * 30) % 1440))),
    ),
    max_size=20,
)
schedules = st.builds(ScheduleSnapshot.build, st.sampled_from(ZONES), intervals, holidays)
# hypothesis takes naive bounds and attaches the zone itself.
moments = st.datetimes(datetime(2026, 1, 1), datetime(2026, 10, 31), timezones=st.just(UTC))  # noqa: DTZ001
targets = st.one_of(st.integers(1, 600), st.integers(600, 60 * 24 * 45))

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def walk_day_by_day(start: datetime, minutes: int, schedule: ScheduleSnapshot) -> datetime:
    """The oracle: the same windows, walked one day at a time with no shortcut."""
    remaining = timedelta(minutes=minutes)
    day = schedule.local_date(start) - timedelta(days=1)
    while True:
        for window_start, window_end in schedule.windows(day):
            if window_end <= start:
                continue
            begin = max(window_start, start)
            if remaining <= window_end - begin:
                return begin + remaining
            remaining -= window_end - begin
        day += timedelta(days=1)


def count_day_by_day(a: datetime, b: datetime, schedule: ScheduleSnapshot) -> timedelta:
    total = timedelta(0)
    day = schedule.local_date(a) - timedelta(days=1)
    while day <= schedule.local_date(b) + timedelta(days=1):
        for window_start, window_end in schedule.windows(day):
            begin, end = max(window_start, a), min(window_end, b)
            total += max(end - begin, timedelta(0))
        day += timedelta(days=1)
    return total


# ---------------------------------------------------------------------------- properties


@SETTINGS
@given(schedules, moments, targets)
def test_skipping_whole_weeks_gives_the_same_due_time_as_walking_every_day(schedule, start, minutes):
    due = add_business_minutes(start, minutes, schedule)
    assert due == walk_day_by_day(start, minutes, schedule)
    assert business_time_between(start, due + timedelta(days=9), schedule) == count_day_by_day(
        start, due + timedelta(days=9), schedule
    )


@SETTINGS
@given(schedules, moments, targets)
def test_the_business_minutes_added_are_the_business_minutes_between(schedule, start, minutes):
    due = add_business_minutes(start, minutes, schedule)
    assert business_time_between(start, due, schedule) == timedelta(minutes=minutes)


@SETTINGS
@given(schedules, moments, targets)
def test_a_due_time_is_inside_working_time_or_at_its_end(schedule, start, minutes):
    due = add_business_minutes(start, minutes, schedule)
    assert due > start
    assert business_time_between(due - SECOND, due, schedule) == SECOND


@SETTINGS
@given(schedules, moments, targets, targets)
def test_a_longer_target_is_never_due_earlier(schedule, start, a, b):
    small, large = sorted((a, b))
    assert add_business_minutes(start, small, schedule) <= add_business_minutes(start, large, schedule)


@SETTINGS
@given(
    schedules,
    moments,
    targets,
    st.lists(st.tuples(st.integers(0, 60 * 24 * 20), st.integers(1, 60 * 24 * 5)), max_size=3),
)
def test_the_clock_stands_still_while_paused(schedule, start, minutes, raw_pauses):
    pauses = [(start + timedelta(minutes=at), start + timedelta(minutes=at + length)) for at, length in raw_pauses]
    due = add_with_pauses(start, minutes, schedule, pauses)
    assert due >= add_business_minutes(start, minutes, schedule)
    # Working time that ran, minus the working time inside the pauses (overlaps counted once).
    paused = timedelta(0)
    covered: list[tuple[datetime, datetime]] = []
    for s, e in sorted(pauses):
        s, e = max(s, start), min(e, due)
        if covered and s < covered[-1][1]:
            s = covered[-1][1]
        if e > s:
            covered.append((s, e))
            paused += business_time_between(s, e, schedule)
    assert business_time_between(start, due, schedule) - paused == timedelta(minutes=minutes)


@SETTINGS
@given(st.sampled_from(ZONES), holidays, moments, targets)
def test_a_schedule_with_no_working_time_is_a_clear_error_not_an_endless_loop(zone, days_off, start, minutes):
    empty = ScheduleSnapshot.build(zone, [], days_off)
    with pytest.raises(NoWorkingTime):
        add_business_minutes(start, minutes, empty)
    assert business_minutes_between(start, start + timedelta(days=30), empty) == 0


# ---------------------------------------------------------------------------- the days people ask about


def test_a_ticket_opened_on_friday_evening_is_due_on_monday_morning():
    berlin = ScheduleSnapshot.build("Europe/Berlin", OFFICE)
    friday_evening = utc("2026-03-06 18:00")  # 19:00 in Berlin
    assert add_business_minutes(friday_evening, 60, berlin) == utc("2026-03-09 09:00")  # 10:00 CET on Monday


def test_office_hours_keep_their_local_times_across_the_spring_change():
    berlin = ScheduleSnapshot.build("Europe/Berlin", OFFICE)
    # Friday 16:00 CET; clocks go forward on Sunday 29 March: Monday's 09:00 is 07:00 UTC.
    assert add_business_minutes(utc("2026-03-27 15:00"), 120, berlin) == utc("2026-03-30 08:00")


def test_around_the_clock_counts_real_minutes_on_the_short_and_the_long_day():
    berlin = ScheduleSnapshot.build("Europe/Berlin", [(d, time(0), time(0)) for d in range(7)])
    assert add_business_minutes(utc("2026-03-28 23:00"), 24 * 60, berlin) == utc("2026-03-29 23:00")
    assert add_business_minutes(utc("2026-10-24 22:00"), 24 * 60, berlin) == utc("2026-10-25 22:00")
    # The long day really has 25 hours of working time, the short one 23.
    assert business_minutes_between(utc("2026-10-24 22:00"), utc("2026-10-25 23:00"), berlin) == 25 * 60
    assert business_minutes_between(utc("2026-03-28 23:00"), utc("2026-03-29 22:00"), berlin) == 23 * 60


def test_holidays_and_partial_days_off_are_skipped():
    berlin = ScheduleSnapshot.build(
        "Europe/Berlin",
        OFFICE,
        [(date(2026, 12, 25), None, None), (date(2026, 12, 24), time(12), None), (date(2026, 12, 28), None, None)],
    )
    # Thursday 24 December 11:00 CET: one hour until the half day off, then Friday and Monday are holidays.
    assert add_business_minutes(utc("2026-12-24 10:00"), 120, berlin) == utc("2026-12-29 09:00")


def test_an_interval_past_midnight_belongs_to_the_night_it_starts():
    night = ScheduleSnapshot.build("America/New_York", [(4, time(22), time(6))])  # Friday night shift
    friday_2200 = utc("2026-04-04 02:00")  # 22:00 EDT on Friday 3 April
    assert add_business_minutes(utc("2026-04-03 12:00"), 60, night) == friday_2200 + timedelta(hours=1)
    assert add_business_minutes(utc("2026-04-03 12:00"), 8 * 60, night) == utc("2026-04-04 10:00")  # 06:00 Saturday
    assert add_business_minutes(utc("2026-04-03 12:00"), 8 * 60 + 1, night) == utc("2026-04-11 02:01")


def test_five_business_days_from_monday_morning_end_on_friday_evening():
    berlin = ScheduleSnapshot.build("Europe/Berlin", OFFICE)
    assert add_business_minutes(utc("2026-06-01 07:00"), 5 * 480, berlin) == utc("2026-06-05 15:00")


def test_a_target_of_years_is_computed_by_weeks_not_by_minutes():
    berlin = ScheduleSnapshot.build("Europe/Berlin", OFFICE, [(date(2027, 1, 1), None, None)])
    began = stopwatch.perf_counter()
    due = add_business_minutes(utc("2026-01-05 08:00"), 2 * 52 * 5 * 480, berlin)
    assert stopwatch.perf_counter() - began < 0.5
    assert business_minutes_between(utc("2026-01-05 08:00"), due, berlin) == 2 * 52 * 5 * 480


def test_a_schedule_with_a_quarter_hour_a_week_still_gets_there_after_fifty_years():
    # Found by hypothesis: the loop guard once counted calendar days, so a target longer than
    # its fifty-year horizon was refused as "no working time" although every week has some.
    mondays = ScheduleSnapshot.build("UTC", [(0, time(0), time(0, 15))])
    due = add_business_minutes(utc("2026-01-01 00:00"), 39211, mondays)
    assert business_minutes_between(utc("2026-01-01 00:00"), due, mondays) == 39211
    assert due.year == 2076


def test_naive_times_are_refused():
    berlin = ScheduleSnapshot.build("Europe/Berlin", OFFICE)
    with pytest.raises(ValueError, match="aware"):
        add_business_minutes(datetime(2026, 1, 5, 9), 10, berlin)  # noqa: DTZ001  (the point of the test)
