"""Indexes for the workspace's people lookup (accounts/lookup.py): lower(name) with
text_pattern_ops, so "name starts with" (case ignored) walks an index whatever the database's
collation. PostgreSQL only: SQLite has no operator classes, and the embedded desk is small."""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.db import migrations, models


def _indexes():
    lookup = django.contrib.postgres.indexes.OpClass(
        django.db.models.functions.text.Lower("name"), name="text_pattern_ops"
    )
    return [
        ("organization", models.Index(lookup, name="org_name_lookup")),
        ("user", models.Index(lookup, name="user_name_lookup")),
    ]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for model_name, index in _indexes():
            schema_editor.add_index(apps.get_model("accounts", model_name), index)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for model_name, index in _indexes():
            schema_editor.remove_index(apps.get_model("accounts", model_name), index)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_automation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name=model_name, index=index) for model_name, index in _indexes()
            ],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
