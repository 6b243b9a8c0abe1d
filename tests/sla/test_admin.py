"""Administrators set up service levels in the admin; mistakes come back as clear errors that keep
what was typed, and saving a schedule recomputes the open tickets counted on it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import icalendar
import pytest

from django.core.files.uploadedfile import SimpleUploadedFile

from tessera.sla.models import HolidayCalendar, Schedule, SlaPlan
from tessera.tickets import services
from tests.tickets.helpers import fresh


def inline(prefix: str, rows: list[dict], initial: int = 0) -> dict[str, str]:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{key}": str(value) for key, value in row.items()})
    return data


@pytest.fixture
def admin_client_(client, desk):
    client.force_login(desk.admin)
    return client


def test_a_schedule_with_a_night_shift_is_saved(admin_client_):
    data = {"name": "Night desk", "time_zone": "America/New_York"}
    data |= inline("intervals", [{"weekday": 4, "start": "22:00", "end": "06:00"}])
    response = admin_client_.post("/admin/sla/schedule/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert str(Schedule.objects.get(name="Night desk").intervals.get()) == "Friday 22:00–06:00"


@pytest.mark.parametrize(
    ("data", "rows", "message"),
    [
        ({"time_zone": "Europe/Berlin"}, [{"weekday": 0, "start": "09:00", "end": "09:00"}], "whole day use 00:00"),
        ({"time_zone": "Mars/Olympus"}, [{"weekday": 0, "start": "09:00", "end": "17:00"}], "not a time zone"),
        ({"time_zone": "Europe/Berlin"}, [], "at least one working interval"),
    ],
)
def test_a_schedule_that_makes_no_sense_is_refused_with_the_reason(admin_client_, data, rows, message):
    form = {"name": "Odd", **data} | inline("intervals", rows)
    response = admin_client_.post("/admin/sla/schedule/add/", form)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html.replace("&#x27;", "'").replace("&quot;", '"')
    assert 'value="Odd"' in html  # what was typed is kept
    assert not Schedule.objects.filter(name="Odd").exists()


def _four_hour_days(office) -> dict[str, str]:
    rows = [
        {"id": i.pk, "schedule": office.hours.pk, "weekday": i.weekday, "start": "09:00", "end": "13:00"}
        for i in office.hours.intervals.all()
    ]
    return {"name": "Office hours", "time_zone": "Europe/Berlin"} | inline("intervals", rows, initial=len(rows))


def _open_tickets(desk, count: int) -> list:
    return [
        services.open_ticket(desk.ken, requester=desk.ken, subject=f"Jam {n}", message="Jams.", topic=desk.general)
        for n in range(count)
    ]


def test_changing_a_schedules_hours_recomputes_its_open_tickets_in_the_background(
    admin_client_, desk, office, monkeypatch, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    monday = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: monday)
    [ticket] = _open_tickets(desk, 1)
    assert fresh(ticket).due_at == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)

    with django_capture_on_commit_callbacks() as queued:
        response = admin_client_.post(f"/admin/sla/schedule/{office.hours.pk}/change/", _four_hour_days(office))
    assert response.status_code == 302
    assert fresh(ticket).due_at == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)  # the save did not touch it

    for callback in queued:  # the commit: the task is queued, and the immediate backend runs it
        callback()
    # 1440 minutes of four-hour days: six days, Monday to the next Monday 13:00 CET.
    assert fresh(ticket).due_at == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


def test_the_admin_says_the_due_times_are_being_recomputed(admin_client_, desk, office):
    response = admin_client_.post(
        f"/admin/sla/schedule/{office.hours.pk}/change/", _four_hour_days(office), follow=True
    )
    assert "being recomputed in the background" in response.content.decode()


@pytest.mark.parametrize("tickets", [1, 12])
def test_saving_a_schedule_costs_the_same_however_many_tickets_it_moves(
    admin_client_, desk, office, tickets, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _open_tickets(desk, tickets)
    admin_client_.get("/admin/")  # session and permissions warmed up alike for both sizes
    with django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as queries:
        admin_client_.post(f"/admin/sla/schedule/{office.hours.pk}/change/", _four_hour_days(office))
    touching_tickets = [q["sql"] for q in queries if "tickets_ticket" in q["sql"]]
    assert touching_tickets == []
    assert len(queries) < 40


@pytest.mark.parametrize(
    ("scope", "change"),
    [("plan", "plan"), ("calendar", "calendar"), ("schedule", "schedule")],
)
def test_the_recompute_task_finds_the_tickets_of_what_changed(desk, office, at, scope, change):
    from tessera.sla import services as sla_services
    from tessera.sla.models import ScheduleInterval

    at("2026-03-02 08:00")
    [ticket] = _open_tickets(desk, 1)
    calendar = HolidayCalendar.objects.create(name="Days off")
    office.hours.calendars.add(calendar)
    ScheduleInterval.objects.filter(schedule=office.hours).update(end="13:00")
    pk = {"plan": office.standard.pk, "calendar": calendar.pk, "schedule": office.hours.pk}[change]

    assert sla_services.recompute_due_times.call(scope, pk) == 1
    assert fresh(ticket).due_at == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


def test_the_recompute_task_refuses_a_scope_it_does_not_know(db):
    from tessera.sla import services as sla_services

    with pytest.raises(ValueError, match="Unknown recompute scope"):
        sla_services.recompute_due_times.call("planet", 1)


def test_a_plan_on_a_schedule_without_hours_is_refused(admin_client_):
    empty = Schedule.objects.create(name="Never")
    data = {"name": "Broken", "schedule": empty.pk, "first_response_minutes": 60, "resolution_minutes": 120}
    response = admin_client_.post("/admin/sla/slaplan/add/", data | inline("targets", []))
    assert response.status_code == 200
    assert "has no working hours" in response.content.decode()
    assert not SlaPlan.objects.filter(name="Broken").exists()


def test_a_plan_answering_after_resolving_is_refused(admin_client_, desk, office):
    data = {
        "name": "Backwards",
        "schedule": office.hours.pk,
        "first_response_minutes": 600,
        "resolution_minutes": 60,
    }
    response = admin_client_.post("/admin/sla/slaplan/add/", data | inline("targets", []))
    assert "cannot be due after resolution" in response.content.decode()


def test_a_calendar_imports_an_uploaded_ics_file_and_generates_a_countrys_holidays(admin_client_):
    calendar = icalendar.Calendar()
    event = icalendar.Event()
    event.add("summary", "Company party")
    event.add("dtstart", date(2026, 6, 12))
    event.add("uid", "party")
    calendar.add_component(event)
    data = {
        "name": "Berlin office",
        "country": "DE",
        "subdivision": "BE",
        "generate_years": "2026",
        "ics_file": SimpleUploadedFile("days.ics", calendar.to_ical(), content_type="text/calendar"),
    } | inline("holidays", [])
    response = admin_client_.post("/admin/sla/holidaycalendar/add/", data, follow=True)
    assert "holidays added" in response.content.decode()
    saved = HolidayCalendar.objects.get(name="Berlin office")
    names = set(saved.holidays.values_list("name", flat=True))
    assert "Company party" in names
    assert saved.holidays.filter(date=date(2026, 3, 8)).exists()  # International Women's Day, a Berlin holiday


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"country": "XX", "generate_years": "2026"}, "not a country"),
        ({"country": "", "generate_years": "2026"}, "Give the country"),
        ({"country": "DE", "generate_years": "next year"}, "Write a year"),
        ({"ics_file": SimpleUploadedFile("x.ics", b"\x00not ics", content_type="text/calendar")}, "not an iCalendar"),
    ],
)
def test_a_bad_import_or_country_is_refused_and_the_calendar_not_saved(admin_client_, fields, message):
    data = {"name": "Typo calendar", "country": "", "subdivision": ""} | fields | inline("holidays", [])
    response = admin_client_.post("/admin/sla/holidaycalendar/add/", data)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&quot;", '"').replace("&#x27;", "'")
    assert not HolidayCalendar.objects.filter(name="Typo calendar").exists()


def test_a_partial_holiday_ending_before_it_starts_is_refused(admin_client_):
    rows = [{"date": "2026-12-24", "name": "Christmas Eve", "start": "14:00", "end": "12:00"}]
    data = {"name": "Eve", "country": "", "subdivision": ""} | inline("holidays", rows)
    response = admin_client_.post("/admin/sla/holidaycalendar/add/", data)
    assert "ends after it starts" in response.content.decode()
