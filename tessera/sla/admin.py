"""Administrators set up service levels here: schedules with their working intervals, holiday
calendars (typed in, imported from an .ics file or generated for a country) and plans with
their targets per priority. Saving one queues the recomputation of the due times of the open
tickets it moves (a background task, tessera.sla.services.recompute_due_times)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import services
from .models import Holiday, HolidayCalendar, Schedule, ScheduleInterval, SlaPlan, SlaTarget


def _recompute(
    modeladmin: admin.ModelAdmin, request: HttpRequest, scope: str, pk: int, *, queued: bool = False
) -> None:
    """Queue the recomputation of the open tickets the change moves (a background task, after the
    commit; `queued` when a service already did) and say so: the save never waits for them."""
    if not queued:
        services.recompute_after_commit(scope, pk)
    modeladmin.message_user(
        request,
        _("The due times of the open tickets this change moves are being recomputed in the background."),
        messages.INFO,
    )


# ---------------------------------------------------------------------------- schedules


class IntervalFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("start") is not None
        ]
        if not kept and not any(form.errors for form in self.forms):
            raise ValidationError(
                _("Give the schedule at least one working interval: with none, nothing would ever fall due.")
            )


class ScheduleIntervalInline(admin.TabularInline):
    model = ScheduleInterval
    formset = IntervalFormSet
    extra = 1


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone"]
    search_fields = ["name"]
    filter_horizontal = ["calendars"]
    inlines = [ScheduleIntervalInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if change:
            _recompute(self, request, "schedule", form.instance.pk)


# ---------------------------------------------------------------------------- holidays


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


class HolidayCalendarForm(forms.ModelForm):
    ics_file = forms.FileField(
        label=gettext_lazy("import an iCalendar file"),
        required=False,
        help_text=gettext_lazy("An .ics file of days off: its events are added as holidays."),
    )
    generate_years = forms.CharField(
        label=gettext_lazy("generate the country's holidays for"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("A year (2027) or years (2026-2028), for the country and region above."),
    )

    class Meta:
        model = HolidayCalendar
        fields = ["name", "country", "subdivision"]

    def clean_generate_years(self) -> list[int]:
        text = (self.cleaned_data.get("generate_years") or "").strip()
        if not text:
            return []
        first, _dash, last = text.partition("-")
        try:
            start, end = int(first), int(last or first)
        except ValueError:
            raise ValidationError(_("Write a year, such as 2027, or a range, such as 2026-2028."))
        if end < start:
            raise ValidationError(_("Write the earlier year first."))
        return list(range(start, end + 1))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("ics_file")
        if upload is not None:
            if upload.size > services.MAX_ICS_BYTES:
                self.add_error("ics_file", _("The file is larger than 1 MB; is it really a holiday calendar?"))
            else:
                try:
                    self.ics_holidays = services.read_ics(upload.read())
                except ValidationError as exc:
                    self.add_error("ics_file", exc)
        years = cleaned.get("generate_years") or []
        if years:
            if not cleaned.get("country"):
                self.add_error("country", _("Give the country (its ISO code, such as DE) to generate holidays for."))
            else:
                try:
                    self.country_holidays = services.country_holidays(
                        cleaned["country"], cleaned.get("subdivision", ""), years
                    )
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        self.add_error(field if field in self.fields else "generate_years", errors)
        return cleaned


@admin.register(HolidayCalendar)
class HolidayCalendarAdmin(admin.ModelAdmin):
    form = HolidayCalendarForm
    list_display = ["name", "country", "subdivision"]
    search_fields = ["name"]
    inlines = [HolidayInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        calendar = form.instance
        added = 0
        for found in (getattr(form, "ics_holidays", None), getattr(form, "country_holidays", None)):
            if found:
                result = services.add_holidays(calendar, found)  # queues the recomputation when it added days
                added += result.added
                self.message_user(
                    request,
                    _("%(added)d holidays added, %(kept)d were already there.")
                    % {"added": result.added, "kept": result.already_there},
                    messages.SUCCESS,
                )
        if change:
            _recompute(self, request, "calendar", calendar.pk, queued=added > 0)


# ---------------------------------------------------------------------------- plans


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0


class SlaPlanForm(forms.ModelForm):
    class Meta:
        model = SlaPlan
        fields = ["name", "schedule", "first_response_minutes", "resolution_minutes", "is_active", "is_default"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        schedule = cleaned.get("schedule")
        if schedule is not None and not schedule.intervals.exists():
            self.add_error("schedule", _("%(name)s has no working hours; give it some first.") % {"name": schedule})
        if cleaned.get("is_default"):
            taken = SlaPlan.objects.filter(is_default=True).exclude(pk=self.instance.pk).first()
            if taken is not None:
                self.add_error(
                    "is_default",
                    _("%(name)s is the desk default; untick it there first.") % {"name": taken.name},
                )
        return cleaned


@admin.register(SlaPlan)
class SlaPlanAdmin(admin.ModelAdmin):
    form = SlaPlanForm
    list_display = ["name", "schedule", "first_response_minutes", "resolution_minutes", "is_active", "is_default"]
    list_filter = ["is_active"]
    inlines = [SlaTargetInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if change or form.instance.is_default:
            _recompute(self, request, "plan", form.instance.pk)
