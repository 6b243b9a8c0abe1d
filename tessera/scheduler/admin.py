"""The scheduled jobs and their runs, under "System": where an administrator sees a job that
keeps failing, reads its error, and runs it again once the cause is fixed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import runner
from .models import JobRun, JobSchedule


def _first_line(error: str) -> str:
    """The exception line of a traceback (its last line): what a list can show of an error."""
    lines = [line for line in error.strip().splitlines() if line.strip()]
    return Truncator(lines[-1] if lines else "").chars(160)


class ReadOnly(admin.ModelAdmin):
    """Rows the scheduler writes; nobody adds or edits them by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


@admin.register(JobSchedule)
class JobScheduleAdmin(ReadOnly):
    list_display = ["name", "state", "attempts", "next_run_at", "last_finished_at", "error"]
    list_filter = ["state"]
    search_fields = ["name"]
    actions = ["run_again"]

    @admin.display(description=_("last error"))
    def error(self, obj: JobSchedule) -> str:
        return _first_line(obj.last_error)

    # Recorded in the audit log like every admin action (tessera/audit/admin_hooks.py).
    @admin.action(description=_("Run the selected jobs again now"), permissions=["change"])
    def run_again(self, request: HttpRequest, queryset: QuerySet[JobSchedule]) -> None:
        count = runner.run_again_now(queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d job will run within seconds (when a scheduler is running: `make run` or run_scheduler).",
                "%(count)d jobs will run within seconds (when a scheduler is running: `make run` or run_scheduler).",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JobRun)
class JobRunAdmin(ReadOnly):
    list_display = ["job", "scheduled_for", "started_at", "duration", "outcome", "acted_on", "worker", "short_error"]
    list_filter = ["outcome", "job"]
    date_hierarchy = "started_at"
    list_select_related = ["job"]

    @admin.display(description=_("error"))
    def short_error(self, obj: JobRun) -> str:
        return _first_line(obj.error)
