from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomFieldsConfig(AppConfig):
    name = "tessera.customfields"
    label = "customfields"
    verbose_name = _("Forms and fields")

    def ready(self) -> None:
        # local import: the hooks read models, which can only load once the app registry is ready
        from django.db.models.signals import post_migrate

        from tessera.tickets import intake_hooks

        from . import intake, sortkey

        # SQLite drops a table's triggers when a migration remakes the table: put them back.
        post_migrate.connect(sortkey.after_migrate, sender=self, dispatch_uid="customfields.sortkey")

        # Values given with a new ticket are checked before and saved inside open_ticket's
        # transaction: the core calls out through its registry and never imports this app.
        intake_hooks.register("customfields", clean=intake.clean, save=intake.save, describe=intake.describe)
