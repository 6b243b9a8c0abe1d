from datetime import timedelta

from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _

from tessera.scheduler.registry import register


class SatisfactionConfig(AppConfig):
    name = "tessera.satisfaction"
    label = "satisfaction"
    verbose_name = _("Customer satisfaction")

    def ready(self) -> None:
        # local import: asking loads models, which can only load once the app registry is ready
        from . import asking

        # A ticket saved as resolved or closed plans its survey (asking.py says why a save
        # signal and not the listener registry); the core never imports this app.
        post_save.connect(asking.on_ticket_saved, sender="tickets.Ticket", dispatch_uid="satisfaction-plan")
        register("satisfaction.ask", every=timedelta(minutes=5), func="tessera.satisfaction.asking.run")
