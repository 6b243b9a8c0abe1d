from datetime import timedelta

from django.apps import AppConfig
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _

from . import registry


class SchedulerConfig(AppConfig):
    name = "tessera.scheduler"
    # Listed with the task results under "System" in the admin (tessera/system_apps.py).
    verbose_name = _("System")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Signals name the class saved: the proxy that writes task rows (models.QueuedTask) needs
        # django-tasks-db's own pre_save, which fills in run_after for a task not deferred.
        from django_tasks_db.signal_handlers import set_run_after

        from .models import QueuedTask  # local import: models load after the app registry

        pre_save.connect(set_run_after, sender=QueuedTask, dispatch_uid="queued-task-run-after")
        # The scheduler's own housekeeping: old run records are forgotten.
        registry.register("scheduler.prune_runs", every=timedelta(hours=6), func="tessera.scheduler.runner.prune_runs")
