"""Service-level plans and the business hours they are counted in.

A plan's targets are working minutes of its schedule: a schedule is a week of intervals in its
own time zone, closed on the holidays of the calendars attached to it. The maths is in
`clock.py`; which plan a ticket follows and its due times are in `plans.py` and the ticket
services (tessera/tickets/services/sla.py).
"""

from __future__ import annotations

import zoneinfo
from datetime import time
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# Ten years of working minutes: past it a target is a typo, and the clock would walk for nothing.
MAX_TARGET_MINUTES = 10 * 366 * 24 * 60
MIDNIGHT = time(0, 0)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(zone)s” is not a time zone name; use one like Europe/Berlin or America/New_York."),
            params={"zone": value},
            code="time_zone",
        )


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class HolidayCalendar(models.Model):
    """Days off, shared by the schedules it is attached to (a country's public holidays, say)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("ISO code, e.g. DE, when generated for a country.")
    )
    subdivision = models.CharField(
        _("region"), max_length=10, blank=True, help_text=_("The country's region code, e.g. BY for Bavaria.")
    )

    class Meta:
        verbose_name = _("holiday calendar")
        verbose_name_plural = _("holiday calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    calendar = models.ForeignKey(
        HolidayCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=200)
    start = models.TimeField(
        _("closed from"), null=True, blank=True, help_text=_("Leave empty for the whole day, or from midnight.")
    )
    end = models.TimeField(_("closed until"), null=True, blank=True, help_text=_("Leave empty for until midnight."))

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date", "start"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date", "name"], name="holiday_unique_per_day")]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.name}"

    def clean(self) -> None:
        if self.start is not None and self.end is not None and self.end != MIDNIGHT and self.end <= self.start:
            raise ValidationError({"end": _("A partial day off ends after it starts (00:00 means midnight).")})


class Schedule(models.Model):
    """Business hours: when the clock of the plans counted in it runs."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone], help_text=_("e.g. Europe/Berlin")
    )
    calendars = models.ManyToManyField(
        HolidayCalendar, verbose_name=_("holiday calendars"), blank=True, related_name="schedules"
    )

    class Meta:
        verbose_name = _("business-hours schedule")
        verbose_name_plural = _("business-hours schedules")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScheduleInterval(models.Model):
    """One stretch of working time on a weekday. An end at or before the start runs past midnight
    into the next day; 00:00–00:00 is the whole day."""

    schedule = models.ForeignKey(
        Schedule, verbose_name=_("schedule"), on_delete=models.CASCADE, related_name="intervals"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"), help_text=_("At or before the start: the next day. 00:00–00:00: the whole day."))

    class Meta:
        verbose_name = _("working interval")
        verbose_name_plural = _("working intervals")
        ordering = ["weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start is None or self.end is None:
            return
        if self.start.second or self.end.second or self.start.microsecond or self.end.microsecond:
            raise ValidationError(_("Give the interval in whole minutes."))
        if self.start == self.end and self.start != MIDNIGHT:
            raise ValidationError(
                {
                    "end": _(
                        "The interval starts and ends at %(time)s, so it is unclear whether it lasts no time or a "
                        "whole day. For a whole day use 00:00–00:00."
                    )
                    % {"time": f"{self.start:%H:%M}"}
                }
            )


def _target_field(label: StrPromise, help_text: str = "") -> models.PositiveIntegerField[int, int]:
    return models.PositiveIntegerField(
        label,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TARGET_MINUTES)],
        help_text=help_text or _("Working minutes of the plan's schedule (480 is one 8-hour business day)."),
    )


class SlaPlan(models.Model):
    """A promise: first response and resolution within so many working minutes of the schedule."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    schedule = models.ForeignKey(Schedule, verbose_name=_("schedule"), on_delete=models.PROTECT, related_name="plans")
    first_response_minutes = _target_field(_("first response within (minutes)"))
    resolution_minutes = _target_field(_("resolution within (minutes)"))
    warn_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("warn at (% of the target)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_(
            "The assignee is warned once this share of a target's working time has passed (75: three quarters)."
        ),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive plans are given to no new ticket.")
    )
    is_default = models.BooleanField(
        _("desk default"),
        default=False,
        help_text=_("For tickets whose help topic and department name no plan. One plan at most."),
    )

    class Meta:
        verbose_name = _("SLA plan")
        verbose_name_plural = _("SLA plans")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True), name="sla_one_default")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.is_default and not self.is_active:
            raise ValidationError({"is_default": _("The desk default must be an active plan.")})
        if (
            self.first_response_minutes is not None
            and self.resolution_minutes is not None
            and self.first_response_minutes > self.resolution_minutes
        ):
            raise ValidationError({"first_response_minutes": _("The first response cannot be due after resolution.")})


class SlaTarget(models.Model):
    """The plan's targets for one priority, instead of its default ones."""

    plan = models.ForeignKey(SlaPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="targets")
    priority = models.ForeignKey(
        "tickets.Priority", verbose_name=_("priority"), on_delete=models.CASCADE, related_name="+"
    )
    first_response_minutes = _target_field(_("first response within (minutes)"))
    resolution_minutes = _target_field(_("resolution within (minutes)"))

    class Meta:
        verbose_name = _("target per priority")
        verbose_name_plural = _("targets per priority")
        constraints = [models.UniqueConstraint(fields=["plan", "priority"], name="sla_target_per_priority")]

    def __str__(self) -> str:
        return f"{self.plan} / {self.priority_id}"

    def clean(self) -> None:
        if (
            self.first_response_minutes is not None
            and self.resolution_minutes is not None
            and self.first_response_minutes > self.resolution_minutes
        ):
            raise ValidationError({"first_response_minutes": _("The first response cannot be due after resolution.")})
