from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CannedConfig(AppConfig):
    name = "tessera.canned"
    label = "canned"
    verbose_name = _("Canned responses")

    def ready(self) -> None:
        # local import: the demo registry lives in the ticket core, which never imports this app.
        from tessera.tickets import demo

        from . import demo as canned_demo
        from . import field_variables

        demo.register(canned_demo.add_demo_responses)
        field_variables.register()
