"""Give the desk's default working roles (Agent, Manager) the task permissions, as a new desk's
have them (tickets.defaults.ROLES), so a desk upgraded with tasks behaves as a new one. Other
roles, the Observer's included, are left to the administrator."""

from django.db import migrations

from tessera.tickets.defaults import TASK_PERMS


def grant(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.filter(name__in=["Agent", "Manager"]):
        perms = list(role.permissions or [])
        added = [p for p in TASK_PERMS if p not in perms]
        if added:
            role.permissions = perms + added
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0001_initial"),
        ("accounts", "0008_automation"),
        ("tickets", "0015_task_event_kinds"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
