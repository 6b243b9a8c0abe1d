"""Load the demo desk from the story: Support and System Administration, John, Jane and Ken."""

from __future__ import annotations

import os
import secrets
from datetime import time
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from tessera.accounts.models import Agent, Department, Membership, Organization, OrganizationDomain, Role, Team, User
from tessera.sla.models import Schedule, ScheduleInterval, SlaPlan, SlaTarget
from tessera.tickets import demo, services
from tessera.tickets.models import HelpTopic, Priority, Ticket

DEMO_USERS = [
    # email, name, kind
    ("admin@example.com", "Ada Admin", "admin"),
    ("john@example.com", "John Doe", "agent"),
    ("jane@example.com", "Jane Doe", "agent"),
    ("ken@example.com", "Ken Adams", "end_user"),
]


class Command(BaseCommand):
    help = "Load demo departments, agents, an end user, help topics and a few tickets (only into an empty desk)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when the desk already has users.")

    def handle(self, *args: Any, if_empty: bool = False, **options: Any) -> None:
        if User.objects.exists():
            if if_empty:
                self.stdout.write("Demo data: the database already has users; leaving it as it is.")
                return
            self.stderr.write(self.style.ERROR("The database already has users; seed_demo only fills an empty desk."))
            raise SystemExit(1)
        shared = os.environ.get("TESSERA_DEMO_PASSWORD", "")
        passwords = {email: shared or secrets.token_urlsafe(9) for email, _name, _kind in DEMO_USERS}
        with transaction.atomic():
            self._load(passwords)
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Sign in with:"))
        for email, name, kind in DEMO_USERS:
            where = {"admin": "/admin/ and /staff/", "agent": "/staff/", "end_user": "/ (portal)"}[kind]
            self.stdout.write(f"  {email:<20} {passwords[email]:<16} {name} — {where}")
        if not shared:
            self.stdout.write("These passwords are shown only now. Set TESSERA_DEMO_PASSWORD to choose them.")

    def _load(self, passwords: dict[str, str]) -> None:
        self.stdout.write("Creating departments, roles and agents…")
        support = Department.objects.create(
            name="Support", email="support@example.com", signature="The Support team\nsupport@example.com"
        )
        sysadmin = Department.objects.create(
            name="System Administration",
            email="sysadmin@example.com",
            signature="System Administration on call\nsysadmin@example.com",
        )
        Department.objects.create(name="Billing", email="billing@example.com")
        agent_role = Role.objects.get(name="Agent")
        manager_role = Role.objects.get(name="Manager")

        def person(email: str, **extra: Any) -> User:
            name = next(n for e, n, _k in DEMO_USERS if e == email)
            return User.objects.create_user(email, passwords[email], name=name, **extra)

        admin = person("admin@example.com", is_staff=True, is_superuser=True)
        john = Agent.objects.create(user=person("john@example.com"), signature="John Doe — Support, tier 1")
        jane = Agent.objects.create(user=person("jane@example.com"), signature="Jane Doe — System Administration")
        ada = Agent.objects.create(user=admin)
        Membership.objects.create(agent=john, department=support, role=agent_role, is_primary=True)
        Membership.objects.create(agent=jane, department=sysadmin, role=agent_role, is_primary=True)
        Membership.objects.create(agent=ada, department=support, role=manager_role, is_primary=True)
        Membership.objects.create(agent=ada, department=sysadmin, role=manager_role)
        support.manager = ada
        support.save(update_fields=["manager"])
        ops = Team.objects.create(name="Infrastructure on-call", lead=jane)
        ops.members.add(jane)

        example = Organization.objects.create(name="Example Corp", account_manager=john)
        OrganizationDomain.objects.create(organization=example, domain="example.org")
        ken = person("ken@example.com", organization=example)

        self.stdout.write("Creating help topics…")
        normal = Priority.objects.get(is_default=True)
        high = Priority.objects.filter(urgency=2).first() or normal
        general = HelpTopic.objects.create(name="General question", department=support, default_priority=normal)
        HelpTopic.objects.create(name="Account or password", department=support, default_priority=normal)
        HelpTopic.objects.create(name="Server or network outage", department=sysadmin, default_priority=high)
        HelpTopic.objects.create(name="Billing", department=Department.objects.get(name="Billing"))
        HelpTopic.objects.create(name="Internal: hardware request", department=sysadmin, is_public=False)

        self._service_levels(support, sysadmin)
        if apps.is_installed("tessera.customfields"):
            # The feature app's own command (the core never imports it): the Hardware form.
            call_command("seed_demo_forms", stdout=self.stdout)

        self.stdout.write("Opening sample tickets…")
        samples = [
            ("Printer on floor 3 is jamming", "It jams on every second page since this morning."),
            ("How do I export my invoices?", "I need all invoices for 2025 as PDF."),
        ]
        for subject, body in samples:
            services.open_ticket(ken, requester=ken, subject=subject, message=body, topic=general)
        if Ticket.objects.count() != len(samples):
            raise CommandError("Demo data: not every sample ticket was opened.")
        demo.run_extras(self.stdout.write)  # what other apps add (tessera.tasks: sample tasks)

    def _service_levels(self, support: Department, sysadmin: Department) -> None:
        """Support works office hours; System Administration's on-call plan runs around the clock.
        Targets follow the priorities: Sev-A answered in 15 minutes and fixed in 4 hours, down to
        Sev-D in one business day and five."""
        self.stdout.write("Creating business hours and SLA plans…")
        hours = Schedule.objects.create(name="Business hours", time_zone=settings.TIME_ZONE)
        for weekday in range(5):
            ScheduleInterval.objects.create(schedule=hours, weekday=weekday, start=time(9), end=time(17))
        day = 8 * 60  # one business day of the schedule above, in minutes
        SlaPlan.objects.filter(is_default=True).update(is_default=False)
        standard = SlaPlan.objects.create(
            name="Standard support",
            schedule=hours,
            first_response_minutes=4 * 60,
            resolution_minutes=3 * day,
            is_default=True,
        )
        by_urgency = {p.urgency: p for p in Priority.objects.all()}
        targets = {1: (15, 4 * 60), 2: (60, day), 3: (4 * 60, 3 * day), 4: (day, 5 * day)}
        for urgency, (first, resolution) in targets.items():
            if urgency in by_urgency:
                SlaTarget.objects.create(
                    plan=standard,
                    priority=by_urgency[urgency],
                    first_response_minutes=first,
                    resolution_minutes=resolution,
                )
        on_call = SlaPlan.objects.create(
            name="Infrastructure on-call",
            schedule=Schedule.objects.filter(name="24×7").first() or hours,
            first_response_minutes=2 * 60,
            resolution_minutes=24 * 60,
        )
        if 1 in by_urgency:
            SlaTarget.objects.create(
                plan=on_call, priority=by_urgency[1], first_response_minutes=15, resolution_minutes=4 * 60
            )
        sysadmin.sla_plan = on_call
        sysadmin.save(update_fields=["sla_plan"])
        support.sla_plan = standard
        support.save(update_fields=["sla_plan"])
