from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "tessera.audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        # Sign-ins, failed sign-ins and sign-outs are recorded by signal receivers.
        # local import: the receivers and the admin hooks need the app registry ready
        from . import admin_hooks, receivers  # noqa: F401

        # Every model registered in the admin so far (the admin app is listed first, so its
        # autodiscovery has run) records its changes; a test checks none slipped through.
        admin_hooks.audit_registered_admins()
