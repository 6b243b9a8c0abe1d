"""The audit log in the configuration admin: searchable, filterable, exportable, read-only."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from tessera.fast_html import time_element

from . import csv_export
from .models import AuditEntry


class PeriodAndActorFilter(admin.ListFilter):
    """From/until dates (in the viewer's time zone, both inclusive) and the actor's address
    or name, typed into a small form in the filter column."""

    title = _("Period and actor")
    template = "admin/audit/period_filter.html"
    parameters = ("since", "until", "actor")

    def __init__(self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any) -> None:
        super().__init__(request, params, model, model_admin)
        self.values: dict[str, str] = {}
        for name in self.parameters:
            if name in params:
                value = params.pop(name)
                self.values[name] = (value[-1] if isinstance(value, list) else value).strip()
        self.other_params = [
            (key, value)
            for key, values in request.GET.lists()
            if key not in self.parameters and key != "p"
            for value in values
        ]

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return list(self.parameters)

    def choices(self, changelist: Any) -> Iterator[Mapping[str, object]]:
        # Nothing to pick from: the filter's template draws a form (the admin lists what this yields).
        yield from ()

    def _day_start(self, name: str) -> datetime.datetime | None:
        day = parse_date(self.values.get(name) or "") if self.values.get(name) else None
        if day is None:
            return None
        if name == "until":
            day += datetime.timedelta(days=1)
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        try:
            since, until = self._day_start("since"), self._day_start("until")
        except ValueError:
            since = until = None
        if since:
            queryset = queryset.filter(created_at__gte=since)
        if until:
            queryset = queryset.filter(created_at__lt=until)
        actor = self.values.get("actor")
        if actor:
            queryset = queryset.filter(actor_label__icontains=actor)
        return queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    audit_log_exempt = True  # reading the log is not a change worth logging
    list_display = ["when", "actor_label", "ip_address", "action", "object_type", "object_repr", "detail_short"]
    list_filter = [PeriodAndActorFilter, "action", "object_type"]
    search_fields = ["actor_label", "object_repr", "object_id", "object_type", "detail", "ip_address"]
    date_hierarchy = "created_at"
    list_per_page = 100
    show_full_result_count = False
    fields = [
        "when",
        "actor_label",
        "actor_id",
        "ip_address",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before_pretty",
        "after_pretty",
        "detail",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # the stubs allow field groups in `fields`; these are plain names

    # Append-only, for everyone: nobody adds, changes or deletes entries here.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    @admin.display(description=_("when"), ordering="created_at")
    def when(self, obj: AuditEntry) -> SafeString | str:
        """The workspace's one form of a time: relative, the exact time in the reader's zone on hover."""
        return time_element(obj.created_at)

    @admin.display(description=_("detail"))
    def detail_short(self, obj: AuditEntry) -> str:
        return obj.detail if len(obj.detail) <= 80 else obj.detail[:79] + "…"

    @admin.display(description=_("before"))
    def before_pretty(self, obj: AuditEntry) -> str:
        return format_html("<pre>{}</pre>", csv_export._json(obj.before))

    @admin.display(description=_("after"))
    def after_pretty(self, obj: AuditEntry) -> str:
        return format_html("<pre>{}</pre>", csv_export._json(obj.after))

    def get_urls(self) -> list[Any]:
        export = path("export/", self.admin_site.admin_view(self.export_csv), name="audit_auditentry_export")
        return [export, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "export_url": reverse("admin:audit_auditentry_export")
            + ("?" + request.GET.urlencode() if request.GET else ""),
            "can_export": request.user.is_superuser,
        }
        return super().changelist_view(request, extra_context)

    def export_csv(self, request: HttpRequest) -> StreamingHttpResponse:
        """What the change list shows (same search and filters), as CSV. Superusers only: the
        file leaves the desk and carries every address and sign-in name."""
        if not request.user.is_superuser:
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        entries = changelist.get_queryset(request).order_by("created_at", "id").iterator(chunk_size=2000)
        stamp = timezone.now().astimezone(datetime.UTC).strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(csv_export.lines(entries), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        return response
