from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from tessera.scheduler.registry import register


class AutomationConfig(AppConfig):
    name = "tessera.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        # Periodic jobs (docs/architecture.md, "Background work"): the scheduler runs each once per
        # interval however many schedulers run; each job is also safe to run twice (it claims its rows).
        register("automation.escalation", every=timedelta(minutes=1), func="tessera.automation.escalation.run")
        register("automation.auto_close", every=timedelta(minutes=15), func="tessera.automation.autoclose.run")
        register("automation.prune_runs", every=timedelta(hours=6), func="tessera.automation.pruning.prune_runs")
