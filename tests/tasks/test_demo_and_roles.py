"""The demo desk has tasks to look at, and the default working roles may work tasks (a desk
that had its roles before tasks existed gets the permissions from the tasks migration)."""

from __future__ import annotations

import importlib
from io import StringIO

from django.apps import apps
from django.core.management import call_command

from tessera.accounts.models import Perm, Role
from tessera.tasks.models import Task
from tessera.tickets.defaults import ensure_defaults
from tessera.tickets.models import Event, EventKind, Priority, Status

# The working set every working role gets; deleting a task is the Manager's (migration 0004).
TASK_PERMS = {p for p in Perm.values if p.startswith("task_")} - {Perm.TASK_DELETE}


def test_the_demo_desk_has_a_task_for_jane_on_the_printer_ticket_and_one_of_its_own(db):
    ensure_defaults(Priority, Status, Role)
    call_command("seed_demo", stdout=StringIO())
    on_ticket = Task.objects.get(ticket__isnull=False)
    assert on_ticket.assignee.user.email == "jane@example.com"
    assert on_ticket.department.name == "System Administration"
    assert Event.objects.filter(ticket=on_ticket.ticket, kind=EventKind.TASK_CREATED).exists()
    assert Task.objects.filter(ticket__isnull=True).count() == 1


def test_the_working_roles_get_the_task_permissions_and_the_observer_does_not(db):
    ensure_defaults(Priority, Status, Role)
    assert set(Role.objects.get(name="Agent").permissions) >= TASK_PERMS
    assert set(Role.objects.get(name="Manager").permissions) >= TASK_PERMS
    assert not TASK_PERMS & set(Role.objects.get(name="Observer").permissions)
    assert Perm.TASK_DELETE in Role.objects.get(name="Manager").permissions
    assert Perm.TASK_DELETE not in Role.objects.get(name="Agent").permissions


def test_the_migration_gives_a_manager_role_made_before_it_the_delete_right_once(db):
    grant = importlib.import_module("tessera.tasks.migrations.0004_task_delete_for_managers").grant
    ensure_defaults(Priority, Status, Role)
    manager = Role.objects.get(name="Manager")
    manager.permissions = ["view", "task_close"]
    manager.save()
    grant(apps, None)
    grant(apps, None)
    assert Role.objects.get(pk=manager.pk).permissions == ["view", "task_close", "task_delete"]
    assert "task_delete" not in Role.objects.get(name="Agent").permissions


def test_the_migration_gives_roles_made_before_tasks_their_permissions_once(db):
    grant = importlib.import_module("tessera.tasks.migrations.0002_task_permissions_for_roles").grant
    ensure_defaults(Priority, Status, Role)
    agent = Role.objects.get(name="Agent")
    agent.permissions = ["view", "reply", "note"]
    agent.save()
    custom = Role.objects.create(name="Night shift", permissions=["view"])
    grant(apps, None)
    grant(apps, None)
    permissions = Role.objects.get(pk=agent.pk).permissions
    assert permissions[:3] == ["view", "reply", "note"] and set(permissions[3:]) == TASK_PERMS
    assert len(permissions) == 3 + len(TASK_PERMS)
    assert Role.objects.get(pk=custom.pk).permissions == ["view"]
