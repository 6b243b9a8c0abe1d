"""The ticket's `updated_at` on its choice answers, kept by triggers (customfields.sortkey), and
the index a queue filtered on one item walks newest first.

On PostgreSQL the whole migration is one transaction: ADD COLUMN locks the answers, the ticket
trigger is created before the copy, so no write is missed. The index is built after the copy
(one sort instead of an index update per copied row)."""

from typing import Any

from django.db import migrations, models

# The triggers' SQL lives with the code that recreates them after SQLite remakes a table.
from tessera.customfields import sortkey


def install(apps: Any, schema_editor: Any) -> None:
    sortkey.install(schema_editor.connection)


def uninstall(apps: Any, schema_editor: Any) -> None:
    sortkey.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("customfields", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="fieldvalue",
            name="ticket_updated_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
        migrations.AddIndex(
            model_name="fieldvalue",
            index=models.Index(
                condition=models.Q(("item__isnull", False), ("ticket__isnull", False)),
                fields=["item", "-ticket_updated_at", "-ticket"],
                name="cf_value_item_sort",
            ),
        ),
    ]
