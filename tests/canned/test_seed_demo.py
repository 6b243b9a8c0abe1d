"""The demo desk comes with a few canned responses whose variables all resolve, and with
department signatures for its automatic mail."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from tessera.accounts.models import Department, Role, User
from tessera.canned import services, variables
from tessera.canned.models import CannedResponse
from tessera.tickets.defaults import ensure_defaults
from tessera.tickets.models import Priority, Status, Ticket


def test_the_demo_desk_has_canned_responses_that_fill_in_for_its_tickets(db):
    ensure_defaults(Priority, Status, Role)
    call_command("seed_demo", stdout=StringIO())
    responses = list(CannedResponse.objects.prefetch_related("departments"))
    assert len(responses) >= 3
    assert {d.name for r in responses for d in r.departments.all()} >= {"Support"}
    assert any(not r.departments.exists() for r in responses)  # some shared with everyone
    ticket = Ticket.objects.select_related("user", "department").first()
    john = User.objects.get(email="john@example.com")
    for response in responses:
        assert variables.unknown_variables(response.body) == []
        text = services.render_for(john, ticket, response).text
        assert "%{" not in text, response.title
    assert Department.objects.get(name="Support").signature
    assert Role.objects.get(name="Manager").grants("canned")
