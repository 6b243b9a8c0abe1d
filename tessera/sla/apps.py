from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "tessera.sla"
    label = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        # local import: the models are loaded only once the app registry is ready
        from . import plans

        plans.forget_on_calendar_links()
