from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _

from tessera import checks as tessera_checks


class TicketsConfig(AppConfig):
    name = "tessera.tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        # Mail links carry the base URL; tickets own access links, so the check lives with them.
        checks.register(tessera_checks.base_url_is_served)
