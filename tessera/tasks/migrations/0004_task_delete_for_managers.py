"""Give the desk's default Manager role the new permission to delete tasks, as a new desk's has
it (tickets.defaults.ROLES), so a desk upgraded with it behaves as a new one. Other roles are
left to the administrator."""

from django.db import migrations


def grant(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.filter(name="Manager"):
        perms = list(role.permissions or [])
        if "task_delete" not in perms:
            role.permissions = [*perms, "task_delete"]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0003_task_moved_event"),
        ("accounts", "0012_user_language_phone"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
