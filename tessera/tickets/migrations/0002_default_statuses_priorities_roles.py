"""A new desk starts with working defaults; administrators rename or extend them."""

from django.db import migrations

PRIORITIES = [
    ("Sev-A (Emergency)", 1, "#b42318", False),
    ("Sev-B (High)", 2, "#c4320a", False),
    ("Sev-C (Normal)", 3, "#1d4ed8", True),
    ("Sev-D (Low)", 4, "#6b7280", False),
]
STATUSES = [
    ("Open", "open", 1),
    ("Waiting on customer", "pending", 2),
    ("Resolved", "resolved", 3),
    ("Closed", "closed", 4),
    ("Archived", "archived", 5),
]
ROLES = {
    "Agent": ["view", "reply", "note", "assign", "transfer", "priority", "status", "close", "manage"],
    "Manager": ["view", "reply", "note", "assign", "transfer", "priority", "status", "close", "delete", "merge", "manage"],
    "Observer": ["view", "note"],
}


def create_defaults(apps, schema_editor):
    Priority = apps.get_model("tickets", "Priority")
    Status = apps.get_model("tickets", "Status")
    Role = apps.get_model("accounts", "Role")
    if not Priority.objects.exists():
        for name, urgency, colour, default in PRIORITIES:
            Priority.objects.create(name=name, urgency=urgency, colour=colour, is_default=default)
    if not Status.objects.exists():
        for name, state, order in STATUSES:
            Status.objects.create(name=name, state=state, order=order, is_default=True)
    for name, perms in ROLES.items():
        Role.objects.get_or_create(name=name, defaults={"permissions": perms})


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("accounts", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
