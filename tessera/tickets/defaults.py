"""The statuses, priorities and roles a new desk starts with.

Takes the model classes as arguments so the data migration can pass its
historical models and tests can pass the real ones.
"""

from __future__ import annotations

from typing import Any

PRIORITIES = [
    # name, urgency (1 = most urgent), colour, default. Red, amber, blue, grey: each clearly apart
    # from the others and readable (WCAG AA) with the text colour tessera.tickets.colours picks.
    ("Sev-A (Emergency)", 1, "#b42318", False),
    ("Sev-B (High)", 2, "#f79009", False),
    ("Sev-C (Normal)", 3, "#1d4ed8", True),
    ("Sev-D (Low)", 4, "#6b7280", False),
]
# Colours a desk may still have from earlier defaults, by priority name: (old, new).
# Sev-B's old red was hard to tell from Sev-A's.
REPLACED_COLOURS = {"Sev-B (High)": ("#c4320a", "#f79009")}
STATUSES = [
    # name, state, order
    ("Open", "open", 1),
    ("Waiting on customer", "pending", 2),
    ("Resolved", "resolved", 3),
    ("Closed", "closed", 4),
    ("Archived", "archived", 5),
]
# Task permissions (tessera.tasks), given to the working roles; tasks migration 0002 adds them
# to desks whose roles were made before tasks existed.
TASK_PERMS = ["task_create", "task_edit", "task_assign", "task_transfer", "task_close"]
ROLES = {
    "Agent": ["view", "reply", "note", "assign", "transfer", "priority", "status", "close", "manage", *TASK_PERMS],
    "Manager": [
        "view",
        "reply",
        "note",
        "assign",
        "transfer",
        "priority",
        "status",
        "close",
        "delete",
        "merge",
        "manage",
        "canned",
        "kb",
        *TASK_PERMS,
        "task_delete",  # tasks migration 0004 gives it to desks made before it existed
    ],
    "Observer": ["view", "note"],
}


def ensure_defaults(Priority: Any, Status: Any, Role: Any) -> None:
    if not Priority.objects.exists():
        for name, urgency, colour, default in PRIORITIES:
            Priority.objects.create(name=name, urgency=urgency, colour=colour, is_default=default)
    if not Status.objects.exists():
        for name, state, order in STATUSES:
            Status.objects.create(name=name, state=state, order=order, is_default=True)
    for name, perms in ROLES.items():
        Role.objects.get_or_create(name=name, defaults={"permissions": perms})


def replace_old_default_colours(Priority: Any) -> None:
    """Give a default priority its new colour, only where the administrator never changed it."""
    for name, (old, new) in REPLACED_COLOURS.items():
        Priority.objects.filter(name=name, colour__iexact=old).update(colour=new)
