"""osTicket's business hours and holidays (1.14+) come over as Tessera schedules and holiday
calendars, and SLA plans count their time in them, as osTicket did."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from django.utils import timezone

from tessera.importer.models import IdMap
from tessera.importer.report import IMPORTED, NOT_IMPORTED, UNCHANGED, UPDATED
from tessera.sla import clock
from tessera.sla.models import HolidayCalendar, Schedule, SlaPlan
from tessera.sla.plans import load_schedules

pytestmark = pytest.mark.django_db

OFFICE = "Monday - Friday 8am - 5pm with U.S. Holidays"


def week(schedule: Schedule) -> list[tuple[int, str, str]]:
    return [(i.weekday, f"{i.start:%H:%M}", f"{i.end:%H:%M}") for i in schedule.intervals.order_by("weekday", "start")]


def holiday(calendar: HolidayCalendar, name: str) -> list[dt.date]:
    return sorted(calendar.holidays.filter(name=name).values_list("date", flat=True))


def test_business_hours_come_over_as_weekly_hours_with_the_us_holidays_attached(crafted, run):
    report = run(crafted)

    office = Schedule.objects.get(name=OFFICE)
    assert week(office) == [(day, "08:00", "17:00") for day in range(5)]
    assert week(Schedule.objects.get(name="24/7")) == [(day, "00:00", "00:00") for day in range(7)]
    assert week(Schedule.objects.get(name="24/5")) == [(day, "00:00", "00:00") for day in range(5)]
    assert list(office.calendars.values_list("name", flat=True)) == ["U.S. Holidays"]
    assert not Schedule.objects.filter(name="U.S. Holidays").exists()  # holidays are a calendar, not hours
    assert report.table("schedule").counts[IMPORTED] == 4
    assert report.table("schedule_entry").counts[IMPORTED] == 16
    assert report.table("schedule_entry").accounted == 16


def test_the_us_holiday_rules_become_the_right_dates_for_the_coming_years(crafted, run):
    run(crafted)

    calendar = HolidayCalendar.objects.get(name="U.S. Holidays")
    years = range(timezone.now().year - 1, timezone.now().year + 6)
    thanksgiving = holiday(calendar, "Thanksgiving Day")
    memorial = holiday(calendar, "Memorial Day")
    assert [d.year for d in thanksgiving] == list(years)
    for day in thanksgiving:  # the fourth Thursday of November
        assert (day.month, day.weekday()) == (11, 3) and 22 <= day.day <= 28
    for day in memorial:  # the last Monday of May
        assert (day.month, day.weekday()) == (5, 0) and day.day >= 25
    assert dt.date(2027, 11, 25) in thanksgiving and dt.date(2027, 5, 31) in memorial
    assert dt.date(2027, 12, 25) in holiday(calendar, "Christmas Day")  # the 25th, though entered in November
    assert dt.date(2027, 9, 6) in holiday(calendar, "Labor Day")  # first Monday of September
    assert all(h.start is None and h.end is None for h in calendar.holidays.all())  # whole days


def test_a_plan_with_a_schedule_counts_its_grace_period_in_business_hours(crafted, run):
    crafted.sql("INSERT INTO ost_config (namespace, `key`, value) VALUES ('core', 'db_timezone', 'America/New_York')")
    crafted.sql(
        "INSERT INTO ost_sla (schedule_id, flags, grace_period, name, created, updated) "
        "VALUES (1, 1, 8, 'Office day', NOW(), NOW()), (2, 1, 8, 'Round the clock', NOW(), NOW())"
    )
    run(crafted)

    plan = SlaPlan.objects.get(name="Office day")
    assert plan.schedule.name == OFFICE
    assert plan.schedule.time_zone == "America/New_York"  # the schedule has none: the desk's zone
    assert SlaPlan.objects.get(name="Round the clock").schedule.name == "24/7"
    # No schedule of its own: osTicket counts it in the desk's default schedule (core.schedule_id = 1).
    assert SlaPlan.objects.get(name="Default SLA").schedule.name == OFFICE

    office = load_schedules([plan.schedule_id])[plan.schedule_id]
    ny = ZoneInfo("America/New_York")
    friday = dt.datetime(2027, 3, 5, 16, 0, tzinfo=ny)
    assert clock.add_business_minutes(friday, 8 * 60, office) == dt.datetime(2027, 3, 8, 15, 0, tzinfo=ny)
    before_thanksgiving = dt.datetime(2027, 11, 24, 16, 0, tzinfo=ny)
    assert clock.add_business_minutes(before_thanksgiving, 8 * 60, office) == dt.datetime(
        2027, 11, 26, 15, 0, tzinfo=ny
    )


def test_a_desk_without_a_default_schedule_keeps_plans_without_one_around_the_clock(crafted, run):
    crafted.sql("DELETE FROM ost_config WHERE namespace = 'core' AND `key` = 'schedule_id'")
    run(crafted)

    assert SlaPlan.objects.get(name="Default SLA").schedule.name == "24/7 (osTicket)"


def test_a_second_run_changes_nothing_and_an_edited_entry_updates_the_hours(crafted, run):
    run(crafted)
    office = Schedule.objects.get(name=OFFICE)
    calendar = HolidayCalendar.objects.get(name="U.S. Holidays")
    holidays = set(calendar.holidays.values_list("pk", flat=True))

    again = run(crafted)
    assert again.table("schedule").counts[UNCHANGED] == 4
    assert again.table("schedule_entry").counts[UNCHANGED] == 16
    assert again.table("sla").counts[UNCHANGED] == 1
    assert set(calendar.holidays.values_list("pk", flat=True)) == holidays

    crafted.sql("UPDATE ost_schedule_entry SET ends_at = '18:30:00' WHERE schedule_id = 1 AND day = 1")
    edited = run(crafted)
    assert edited.table("schedule").counts[UPDATED] == 1
    assert week(office)[0] == (0, "08:00", "18:30")
    assert week(office)[1] == (1, "08:00", "17:00")
    assert IdMap.objects.filter(source_table="schedule").count() == 4
    assert Schedule.objects.filter(name__startswith="Monday - Friday").count() == 1


def test_bad_entries_are_reported_and_the_rest_of_the_schedule_still_comes_over(crafted, run):
    insert = (
        "INSERT INTO ost_schedule_entry (schedule_id, name, repeats, starts_on, starts_at, ends_on, ends_at, day, "
        "week, month, created, updated) VALUES (%s, %s, %s, '2024-01-01', %s, '2024-01-01', %s, %s, NULL, %s, "
        "NOW(), NOW())"
    )
    fortnight = crafted.sql(insert, [1, "Every other Saturday", "fortnightly", "09:00:00", "12:00:00", 6, None])
    no_time = crafted.sql(insert, [3, "Saturday", "weekly", None, None, 6, None])
    crafted.sql(insert, [4, "Christmas Eve", "yearly", "12:00:00", "23:59:59", 24, 12])
    orphan = crafted.sql(insert, [99, "Lost", "daily", "08:00:00", "17:00:00", None, None])
    crafted.sql("UPDATE ost_department SET schedule_id = 3 WHERE id = 2")

    report = run(crafted)

    entries = report.table("schedule_entry")
    assert entries.counts[IMPORTED] == 17 and entries.counts[NOT_IMPORTED] == 3
    assert entries.accounted == entries.source_rows == 20
    details = "\n".join(report.details["schedule_entry"])
    assert f"schedule_entry#{fortnight}: not imported: unknown repeat rule fortnightly" in details
    assert f"schedule_entry#{no_time}: not imported: no start or end time" in details
    assert f"schedule_entry#{orphan}: not imported: its schedule does not exist" in details
    assert week(Schedule.objects.get(name=OFFICE)) == [(day, "08:00", "17:00") for day in range(5)]
    eve = HolidayCalendar.objects.get(name="U.S. Holidays").holidays.get(date=dt.date(2027, 12, 24))
    assert (eve.start, eve.end) == (dt.time(12), None)  # closed from noon
    assert any("department#2" in note for note in report.table("department").notes)

    again = run(crafted)
    assert again.table("schedule_entry").counts[NOT_IMPORTED] == 3  # still reported, still not stopping
    assert again.table("schedule_entry").counts[UNCHANGED] == 17
