"""Give the knowledge-base permission to every role that manages canned responses (the default
Manager role, and any role an administrator gave that right), as a new desk's Manager has it
(tickets.defaults.ROLES), so an upgraded desk has writers for its knowledge base."""

from django.db import migrations


def grant(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.all():
        perms = list(role.permissions or [])
        if "canned" in perms and "kb" not in perms:
            role.permissions = [*perms, "kb"]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0001_knowledge_base"),
        ("accounts", "0012_user_language_phone"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
