from datetime import timedelta

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from tessera.scheduler.registry import register


class SlaConfig(AppConfig):
    name = "tessera.sla"
    label = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        # local import: the models are loaded only once the app registry is ready
        from . import plans, warning_backfill

        plans.forget_on_calendar_links()
        # Tickets opened before SLA warnings existed get theirs from a task queued after migrate.
        post_migrate.connect(warning_backfill.queue_after_migrate, sender=self, dispatch_uid="sla-warning-backfill")
        # The warning and breach scan (docs/architecture.md, "Background work"): every minute, so an
        # alert is at most a minute late; each alert is claimed once however many schedulers run.
        register("sla.breaches", every=timedelta(minutes=1), func="tessera.sla.breaches.run")
