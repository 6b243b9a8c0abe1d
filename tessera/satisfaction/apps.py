from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SatisfactionConfig(AppConfig):
    name = "tessera.satisfaction"
    label = "satisfaction"
    verbose_name = _("Customer satisfaction")

    def ready(self) -> None:
        # local import: asking loads models, which can only load once the app registry is ready
        from tessera.tickets import listeners

        from . import asking

        # Every committed ticket change reaches us; the core calls out and never imports this app.
        listeners.register("satisfaction", asking.on_change, wants=asking.enabled)
