"""Give the desk's default Manager role the permission to manage canned responses, as a new
desk's has it (tickets.defaults.ROLES), so a desk upgraded with canned responses behaves as a
new one. Other roles are left to the administrator."""

from django.db import migrations


def grant(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.filter(name="Manager"):
        perms = list(role.permissions or [])
        if "canned" not in perms:
            role.permissions = [*perms, "canned"]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("canned", "0001_initial"),
        ("accounts", "0008_automation"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
