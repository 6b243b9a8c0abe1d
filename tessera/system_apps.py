"""Third-party apps whose admin pages an administrator rarely needs, listed under "System".

Why: the admin index is where a help-desk administrator configures the desk; the background
task backend's results and the scheduled jobs are for diagnosing a stuck mail or a failing job,
not configuration, so they sit under one plainly named heading instead of "Tasks Database
Backend" among the desk's settings. Two apps named "System" (the task results and
tessera.scheduler) are shown as one section by `DeskAdminSite`.
"""

from typing import Any

from django_tasks_db.apps import TasksAppConfig

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class TaskResultsConfig(TasksAppConfig):
    verbose_name = _("System")  # type: ignore[assignment]  # a lazy string, as Django allows


class DeskAdminSite(AdminSite):
    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[Any]:
        """Apps that share a heading are one section, their models in one alphabetical list."""
        merged: dict[str, dict[str, Any]] = {}
        for app in super().get_app_list(request, app_label):
            section = merged.get(str(app["name"]))
            if section is None:
                merged[str(app["name"])] = app
            else:
                section["models"] = sorted([*section["models"], *app["models"]], key=lambda m: str(m["name"]))
        return list(merged.values())


class DeskAdminConfig(AdminConfig):
    default_site = "tessera.system_apps.DeskAdminSite"
