"""Sev-B gets amber instead of a red close to Sev-A's, where a desk still has the old default."""

from django.db import migrations

from tessera.tickets.defaults import replace_old_default_colours


def forwards(apps, schema_editor):
    replace_old_default_colours(apps.get_model("tickets", "Priority"))


class Migration(migrations.Migration):
    dependencies = [("tickets", "0007_alert_settings")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
