"""A new desk starts with working defaults; administrators rename or extend them."""

from django.db import migrations

from tessera.tickets.defaults import ensure_defaults


def create_defaults(apps, schema_editor):
    ensure_defaults(apps.get_model("tickets", "Priority"), apps.get_model("tickets", "Status"), apps.get_model("accounts", "Role"))


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
