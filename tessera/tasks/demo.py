"""The demo desk's sample tasks (`manage.py seed_demo`, through tickets.demo)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from tessera.accounts.models import Agent, Department, User
from tessera.tickets.models import Ticket

from . import services


def add_demo_tasks(write: Callable[[str], None]) -> None:
    """John asks System Administration to check the printer's network port (a task on Ken's
    printer ticket, assigned to Jane); Ada keeps a task of her own to order toner."""
    john = User.objects.filter(email="john@example.com").first()
    admin = User.objects.filter(email="admin@example.com").first()
    jane = Agent.objects.filter(user__email="jane@example.com").first()
    printer = Ticket.objects.filter(subject__startswith="Printer").order_by("number").first()
    sysadmin = Department.objects.filter(name="System Administration").first()
    support = Department.objects.filter(name="Support").first()
    if john is None or admin is None or printer is None or sysadmin is None or support is None:
        return
    write("Creating sample tasks…")
    task = services.create_task(
        john,
        ticket=printer,
        title="Check the printer's network port on floor 3",
        description="The jams started after the switch was replaced. Is the port negotiating at full duplex?",
        due_at=timezone.now() + timedelta(days=1),
    )
    if jane is not None:
        services.transfer_task(john, task, department=sysadmin)
        task.refresh_from_db()
        services.assign_task(admin, task, agent=jane)
    services.create_task(admin, title="Order toner for the floor 3 printer", department=support)
