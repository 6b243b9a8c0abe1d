"""Indexes for the workspace's people lookup (accounts/lookup.py): each key lower-cased where it
needs to be and in byte order (COLLATE "C"), so "starts with …, the first ten in order" reads
ten index entries and stops, whatever the database's own collation: the user's name, the rest
of it after the first word, the address; the organisation's name. PostgreSQL only: the
embedded SQLite desk is small and scans. The models do not declare them: SQLite knows no "C"
collation, and rebuilds a table from its declared indexes whenever a later migration changes it."""

from django.db import migrations, models
from django.db.models.functions import Collate, Lower, StrIndex, Substr


def _indexes():
    rest_of_name = Lower(Substr(models.F("name"), StrIndex(models.F("name"), models.Value(" ")) + 1))
    return [
        ("organization", models.Index(Collate(Lower("name"), "C"), name="org_name_lookup")),
        ("user", models.Index(Collate(Lower("name"), "C"), name="user_name_lookup")),
        ("user", models.Index(Collate(rest_of_name, "C"), name="user_rest_of_name_lookup")),
        ("user", models.Index(Collate("email", "C"), name="user_email_lookup")),
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

    operations = [migrations.RunPython(create, drop)]
