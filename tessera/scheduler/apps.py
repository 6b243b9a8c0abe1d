from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from . import registry


class SchedulerConfig(AppConfig):
    name = "tessera.scheduler"
    # Listed with the task results under "System" in the admin (tessera/system_apps.py).
    verbose_name = _("System")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The scheduler's own housekeeping: old run records are forgotten.
        registry.register("scheduler.prune_runs", every=timedelta(hours=6), func="tessera.scheduler.runner.prune_runs")
