"""Holiday calendars: imported from iCalendar files, generated for a country, and what a bad file says."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import icalendar
import pytest

from django.core.exceptions import ValidationError

from tessera.sla import services
from tessera.sla.models import HolidayCalendar
from tessera.tickets import services as ticket_services
from tests.tickets.helpers import fresh


def ics(*events: dict) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Tessera tests//EN")
    calendar.add("version", "2.0")
    for fields in events:
        event = icalendar.Event()
        for key, value in fields.items():
            event.add(key, value)
        calendar.add_component(event)
    return calendar.to_ical()


@pytest.fixture
def days_off(db):
    return HolidayCalendar.objects.create(name="Company days off")


def test_an_ics_file_adds_whole_days_multi_day_events_and_partial_days(days_off):
    data = ics(
        {"summary": "Company party", "dtstart": date(2026, 6, 12), "dtend": date(2026, 6, 13), "uid": "a"},
        {"summary": "Summer break", "dtstart": date(2026, 8, 3), "dtend": date(2026, 8, 6), "uid": "b"},
        {
            "summary": "Town hall",
            "dtstart": datetime(2026, 9, 1, 14, 0),  # noqa: DTZ001  (floating local time, as calendars write it)
            "dtend": datetime(2026, 9, 1, 16, 30),  # noqa: DTZ001
            "uid": "c",
        },
    )
    result = services.import_ics(days_off, data)
    assert result.added == 5
    rows = list(days_off.holidays.values_list("date", "start", "end", "name"))
    assert rows == [
        (date(2026, 6, 12), None, None, "Company party"),
        (date(2026, 8, 3), None, None, "Summer break"),
        (date(2026, 8, 4), None, None, "Summer break"),
        (date(2026, 8, 5), None, None, "Summer break"),
        (date(2026, 9, 1), time(14), time(16, 30), "Town hall"),
    ]
    again = services.import_ics(days_off, data)
    assert (again.added, again.already_there) == (0, 5)


def test_a_yearly_event_is_expanded_around_today(days_off):
    this_year = datetime.now(UTC).year
    services.import_ics(
        days_off,
        ics({"summary": "Founders day", "dtstart": date(2020, 5, 4), "rrule": {"freq": "yearly"}, "uid": "f"}),
    )
    years = sorted(d.year for d in days_off.holidays.values_list("date", flat=True))
    assert years == list(range(this_year - 1, this_year + 6))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is not a calendar", "not an iCalendar"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no events"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:notadate\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "cannot"),
        (b"\xff\xfe\x00garbage" * 10, "not an iCalendar"),
        (b"BEGIN:VCALENDAR\r\n" + b"X" * 1_000_001, "larger than 1 MB"),
    ],
)
def test_a_bad_ics_file_is_refused_with_a_reason_and_adds_nothing(days_off, data, message):
    with pytest.raises(ValidationError, match=message):
        services.import_ics(days_off, data)
    assert not days_off.holidays.exists()


def test_a_countrys_holidays_are_generated_for_a_region_and_years(days_off):
    result = services.generate_holidays(days_off, country="de", subdivision="by", years=[2026, 2027])
    assert result.added > 20
    dates = set(days_off.holidays.values_list("date", flat=True))
    assert date(2026, 12, 25) in dates
    assert date(2026, 1, 6) in dates  # Epiphany: a Bavarian holiday, not a federal one
    assert (days_off.country, days_off.subdivision) == ("DE", "BY")


@pytest.mark.parametrize(
    ("country", "subdivision", "years", "field"),
    [
        ("XX", "", [2026], "country"),
        ("DE", "ZZ", [2026], "subdivision"),
        ("DE", "", list(range(2020, 2040)), "years"),
        ("DE", "", [], "years"),
    ],
)
def test_an_unknown_country_region_or_too_many_years_is_refused(days_off, country, subdivision, years, field):
    with pytest.raises(ValidationError) as refused:
        services.generate_holidays(days_off, country=country, subdivision=subdivision, years=years)
    assert field in refused.value.message_dict
    assert not days_off.holidays.exists()


def test_new_holidays_move_the_open_tickets_of_plans_counted_on_them(
    desk, office, at, days_off, django_capture_on_commit_callbacks
):
    office.hours.calendars.add(days_off)
    at("2026-03-02 08:00")  # Monday
    ticket = ticket_services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer", message="Jams.", topic=desk.general
    )
    assert fresh(ticket).due_at == datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):  # the recomputation is queued on commit
        services.import_ics(days_off, ics({"summary": "Closed", "dtstart": date(2026, 3, 3), "uid": "x"}))
    assert fresh(ticket).due_at == datetime(2026, 3, 5, 16, 0, tzinfo=UTC)
