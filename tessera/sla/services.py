"""Changing the desk's service levels: holidays from an iCalendar file or a country's calendar,
and recomputing the open tickets a schedule, calendar or plan change moves.

Recomputing writes no timeline Event and does not bump a ticket's version: nobody changed the
ticket, the desk's hours did (an agent's open form stays valid). It is a background task
(`recompute_due_times`, queued by `recompute_after_commit`): a schedule may carry a hundred
thousand open tickets, and an administrator's save must not wait for them. Tests:
tests/sla/test_holidays.py, tests/sla/test_admin.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import holidays as holiday_data
import icalendar
from dateutil import rrule  # type: ignore[import-untyped]  # installed with icalendar, which pins it; no stubs

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.tickets.models import ACTIVE_STATES, Ticket
from tessera.tickets.services.sla import sla_refresh

from . import plans
from .models import Holiday, HolidayCalendar, Schedule, SlaPlan

MAX_ICS_BYTES = 1_000_000
MAX_HOLIDAYS_PER_IMPORT = 2_000
# Repeating events (RRULE) are expanded this far around today: holidays of long ago or far ahead do nothing.
RECURRENCE_YEARS_BACK = 1
RECURRENCE_YEARS_AHEAD = 5
MAX_YEARS_PER_GENERATION = 10
RECOMPUTE_BATCH = 500


Closure = tuple[date, time | None, time | None, str]  # date, closed from, closed until, name


@dataclass(frozen=True)
class HolidayImport:
    added: int
    already_there: int


def add_holidays(calendar: HolidayCalendar, found: Iterable[Closure]) -> HolidayImport:
    rows = {(day, name[:200] or _("Holiday")): (start, end) for day, start, end, name in found}
    if len(rows) > MAX_HOLIDAYS_PER_IMPORT:
        raise ValidationError(
            _("That is %(n)d holidays; import at most %(limit)d at a time.")
            % {"n": len(rows), "limit": MAX_HOLIDAYS_PER_IMPORT}
        )
    existing = set(calendar.holidays.values_list("date", "name"))
    new = [
        Holiday(calendar=calendar, date=day, name=name, start=start, end=end)
        for (day, name), (start, end) in sorted(rows.items())
        if (day, name) not in existing
    ]
    with transaction.atomic():
        Holiday.objects.bulk_create(new)
        # bulk_create sends no post_save: forget the plans' snapshot here, then recount tickets.
        plans.catalogue.forget()
        if new:
            recompute_after_commit("calendar", calendar.pk)
    return HolidayImport(added=len(new), already_there=len(rows) - len(new))


def _as_date_and_time(value: date | datetime) -> tuple[date, time | None]:
    if isinstance(value, datetime):
        return value.date(), value.time().replace(second=0, microsecond=0)
    return value, None


def _days_of(start: date | datetime, end: date | datetime | None) -> list[tuple[date, time | None, time | None]]:
    """The (date, from, until) closures one event makes: a whole day per all-day date (DTEND is
    the day after the last), or the times of a timed event, split at midnight."""
    if not isinstance(start, datetime):
        last = end if isinstance(end, date) and not isinstance(end, datetime) and end > start else None
        count = (last - start).days if last else 1
        return [(start + timedelta(days=i), None, None) for i in range(min(count, 366))]
    finish = end if isinstance(end, datetime) else start + timedelta(days=1)
    if finish.tzinfo is not None and start.tzinfo is not None:
        finish = finish.astimezone(start.tzinfo)
    first_day, from_time = _as_date_and_time(start)
    last_day, until_time = _as_date_and_time(finish)
    if last_day == first_day:
        return [(first_day, from_time, until_time)] if until_time and from_time and until_time > from_time else []
    closures: list[tuple[date, time | None, time | None]] = [(first_day, from_time, None)]
    day = first_day + timedelta(days=1)
    while day < last_day and len(closures) < 366:
        closures.append((day, None, None))
        day += timedelta(days=1)
    if until_time and until_time != time(0):
        closures.append((last_day, None, until_time))
    return closures


def _occurrences(event: icalendar.Component, start: date | datetime) -> list[date | datetime]:
    rule = event.get("RRULE")
    if rule is None:
        return [start]
    today = timezone.now().date()
    window_start = date(today.year - RECURRENCE_YEARS_BACK, 1, 1)
    window_end = date(today.year + RECURRENCE_YEARS_AHEAD, 12, 31)
    anchor = start if isinstance(start, datetime) else datetime.combine(start, time())
    try:
        recurrence = rrule.rrulestr(rule.to_ical().decode(), dtstart=anchor.replace(tzinfo=None))
    except (ValueError, TypeError) as exc:
        raise ValidationError(_("A repeating event has a rule Tessera cannot read: %(error)s") % {"error": exc})
    found: list[date | datetime] = []
    for moment in recurrence.xafter(datetime.combine(window_start, time()) - timedelta(seconds=1), count=2_000):
        if moment.date() > window_end:
            break
        found.append(moment.replace(tzinfo=anchor.tzinfo) if isinstance(start, datetime) else moment.date())
    return found


def import_ics(calendar: HolidayCalendar, data: bytes) -> HolidayImport:
    """Add the events of an iCalendar file as holidays. Events already in the calendar (same date
    and name) are skipped, so importing the same file twice adds nothing."""
    return add_holidays(calendar, read_ics(data))


def read_ics(data: bytes) -> list[Closure]:
    """The holidays an iCalendar file describes (a whole day for all-day events; the times of a
    timed one, as its own local times), or a ValidationError saying why the file cannot be used."""
    if len(data) > MAX_ICS_BYTES:
        raise ValidationError(_("The file is larger than 1 MB; is it really a holiday calendar?"))
    try:
        parsed = icalendar.Calendar.from_ical(data)
    except (ValueError, TypeError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise ValidationError(_("This is not an iCalendar (.ics) file Tessera can read: %(error)s") % {"error": exc})
    if not isinstance(parsed, icalendar.Calendar):
        raise ValidationError(_("This is not an iCalendar (.ics) file Tessera can read."))
    found: list[Closure] = []
    for event in parsed.walk("VEVENT"):
        try:
            start_prop = event.get("DTSTART")
            if start_prop is None:
                continue
            start = start_prop.dt
            end_prop = event.get("DTEND")
            end = end_prop.dt if end_prop is not None else None
            name = str(event.get("SUMMARY", "")).strip()
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValidationError(_("An event in the file cannot be read: %(error)s") % {"error": exc})
        if not isinstance(start, date):
            continue
        length = (end - start) if end is not None and type(end) is type(start) else None
        for occurrence in _occurrences(event, start):
            occurrence_end = occurrence + length if length is not None else None
            found += [(day, s, e, name) for day, s, e in _days_of(occurrence, occurrence_end)]
        if len(found) > MAX_HOLIDAYS_PER_IMPORT:
            break
    if not found:
        raise ValidationError(_("The file holds no events to import as holidays."))
    return found


def generate_holidays(
    calendar: HolidayCalendar, *, country: str, subdivision: str = "", years: list[int]
) -> HolidayImport:
    """Add a country's (and region's) public holidays for `years`, from the `holidays` package."""
    country, subdivision = country.strip().upper(), subdivision.strip().upper()
    result = add_holidays(calendar, country_holidays(country, subdivision, years))
    if (calendar.country, calendar.subdivision) != (country, subdivision):
        calendar.country, calendar.subdivision = country, subdivision
        calendar.save(update_fields=["country", "subdivision"])
    return result


def country_holidays(country: str, subdivision: str, years: list[int]) -> list[Closure]:
    """A country's (and region's) public holidays, or a ValidationError naming the field at fault."""
    country, subdivision = country.strip().upper(), subdivision.strip().upper()
    if not years or len(years) > MAX_YEARS_PER_GENERATION or min(years) < 1900 or max(years) > 2200:
        raise ValidationError(
            {"years": _("Choose from one to %(n)d years between 1900 and 2200.") % {"n": MAX_YEARS_PER_GENERATION}}
        )
    supported = holiday_data.list_supported_countries()
    if country not in supported:
        raise ValidationError(
            {"country": _("“%(code)s” is not a country Tessera knows holidays for.") % {"code": country}}
        )
    if subdivision and subdivision not in supported[country]:
        raise ValidationError(
            {
                "subdivision": _("%(country)s has no region “%(code)s”; its regions are: %(known)s.")
                % {"country": country, "code": subdivision, "known": ", ".join(supported[country])}
            }
        )
    days = holiday_data.country_holidays(country, subdiv=subdivision or None, years=years)
    return [(day, None, None, str(name)) for day, name in sorted(days.items())]


# ---------------------------------------------------------------------------- recomputing


def recompute_open_tickets(plan_ids: Iterable[int]) -> int:
    """Recompute the due times of the open and pending tickets on these plans (and of those with
    no plan when one of them is the desk default); return how many changed."""
    plan_ids = list(plan_ids)
    if not plan_ids:
        return 0
    plans.catalogue.forget()
    now = timezone.now()
    on_plans = Q(sla_plan_id__in=plan_ids)
    if SlaPlan.objects.filter(pk__in=plan_ids, is_default=True).exists():
        on_plans |= Q(sla_plan__isnull=True)
    candidates = Ticket.objects.filter(on_plans, state__in=ACTIVE_STATES).order_by("pk")
    changed, last = 0, 0
    while True:
        ids = list(candidates.filter(pk__gt=last).values_list("pk", flat=True)[:RECOMPUTE_BATCH])
        if not ids:
            return changed
        with transaction.atomic():
            locked = (
                Ticket.objects.select_for_update(of=("self",)).select_related("topic", "department").filter(pk__in=ids)
            )
            for ticket in locked:
                fields = sla_refresh(ticket, now, replan=ticket.sla_plan_id is None)
                if fields:
                    ticket.save(update_fields=fields)
                    changed += 1
        last = ids[-1]


def recompute_for_schedule(schedule: Schedule) -> int:
    return recompute_open_tickets(schedule.plans.values_list("pk", flat=True))


def recompute_for_calendar(calendar: HolidayCalendar) -> int:
    return recompute_open_tickets(SlaPlan.objects.filter(schedule__calendars=calendar).values_list("pk", flat=True))


RECOMPUTE_SCOPES = ("schedule", "calendar", "plan")


@task()
def recompute_due_times(scope: str, pk: int) -> int:
    """The open tickets a changed schedule, calendar or plan moves, recomputed in batches (each
    batch its own transaction, its rows locked) by the worker. The plans concerned are looked up
    here, when the task runs, so a task queued before another change still sees the desk as it
    is. Returns how many tickets changed."""
    if scope == "schedule":
        plan_ids = SlaPlan.objects.filter(schedule_id=pk).values_list("pk", flat=True)
    elif scope == "calendar":
        plan_ids = SlaPlan.objects.filter(schedule__calendars=pk).values_list("pk", flat=True)
    elif scope == "plan":
        plan_ids = SlaPlan.objects.filter(pk=pk).values_list("pk", flat=True)
    else:
        raise ValueError(f"Unknown recompute scope {scope!r}; expected one of {RECOMPUTE_SCOPES}")
    return recompute_open_tickets(plan_ids)


def recompute_after_commit(scope: str, pk: int) -> None:
    """Queue `recompute_due_times` once the caller's change is committed (the worker must read
    the new hours), so the request that saved it never touches the tickets."""
    transaction.on_commit(lambda: recompute_due_times.enqueue(scope, pk))
