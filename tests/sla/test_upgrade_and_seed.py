"""A desk that upgrades keeps its tickets working; a demo desk starts with plans that keep time."""

from __future__ import annotations

from io import StringIO

import pytest

from django.core.management import call_command
from django.db import connection

from tessera import process_memo
from tessera.accounts.models import Role
from tessera.sla.models import Schedule, SlaPlan
from tessera.tickets import services
from tessera.tickets.defaults import ensure_defaults
from tessera.tickets.models import Priority, Status, Ticket
from tests.tickets.helpers import fresh


@pytest.mark.django_db(transaction=True)
def test_the_migrations_apply_to_a_desk_with_tickets_which_get_due_times_at_their_next_change(desk):
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Old", message="From before.", topic=desk.general
    )

    Ticket.objects.filter(pk=ticket.pk).update(due_at=None)  # as before plans: nothing set a due time
    call_command("migrate", "sla", "zero", verbosity=0)  # takes the ticket and department columns with it
    try:
        with connection.cursor() as cursor:
            columns = [c.name for c in connection.introspection.get_table_description(cursor, "tickets_ticket")]
        assert "sla_plan_id" not in columns
    finally:
        call_command("migrate", verbosity=0)
        process_memo.forget_all()  # a data migration's rows send no signal the memos hear

    upgraded = fresh(ticket)
    assert upgraded.subject == "Old"
    assert upgraded.sla_plan_id is None and upgraded.due_at is None  # not backfilled: nothing turns overdue at once
    assert Schedule.objects.get(name="24×7").intervals.count() == 7
    default = SlaPlan.objects.get(is_default=True)

    services.set_priority(desk.john.user, upgraded, priority=desk.sev_a)
    assert fresh(ticket).sla_plan_id == default.pk
    assert fresh(ticket).due_at is not None


def test_the_demo_desk_has_business_hours_and_plans_its_tickets_follow(db):
    # The rows the migrations write (roles, priorities, statuses), which `make run` has before it
    # seeds: put back in case a transactional test emptied the tables on this worker.
    ensure_defaults(Priority, Status, Role)
    call_command("seed_demo", stdout=StringIO())
    hours = Schedule.objects.get(name="Business hours")
    assert hours.intervals.count() == 5
    standard = SlaPlan.objects.get(is_default=True)
    assert standard.name == "Standard support"
    sev_a = standard.targets.get(priority__urgency=1)
    assert (sev_a.first_response_minutes, sev_a.resolution_minutes) == (15, 240)
    for ticket in Ticket.objects.all():
        assert ticket.sla_plan_id == standard.pk
        assert ticket.first_response_due_at is not None and ticket.due_at is not None
