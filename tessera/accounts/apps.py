from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from tessera.scheduler.registry import register


class AccountsConfig(AppConfig):
    name = "tessera.accounts"
    verbose_name = _("People and organisation")

    def ready(self) -> None:
        # local import: receivers connect to models' signals once the app registry is ready
        from . import receivers  # noqa: F401  (connects the lockout counters)

        # Periodic jobs (docs/architecture.md, "Background work"): the scheduler runs each once per interval.
        register("accounts.prune_lockouts", every=timedelta(hours=1), func="tessera.accounts.jobs.prune_lockouts")
