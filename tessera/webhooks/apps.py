from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from tessera.scheduler.registry import register


class WebhooksConfig(AppConfig):
    name = "tessera.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        # local import: services loads models, which can only load once the app registry is ready
        from tessera.tickets import listeners

        from . import services

        # Every committed ticket change reaches the webhooks: the core calls out, never imports us.
        listeners.register("webhooks", services.on_change, wants=services.wanted)
        # Retries (docs/architecture.md, "Background work"): each queue's due head is claimed
        # with a conditional UPDATE, so several schedulers and workers never send one twice.
        register("webhooks.retry", every=timedelta(minutes=1), func="tessera.webhooks.delivery.run")
