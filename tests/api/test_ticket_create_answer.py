"""What a ticket creation answers, and what it writes, stay the same while the request does less
work (bench/RESULTS.md, "Cutting CPU per ticket"): the answer to `POST /api/v1/tickets` is the
ticket a later GET shows, custom fields included, and osTicket's endpoint writes its intake
details with the ticket or not at all."""

from __future__ import annotations

import json

import pytest

from django.db import DatabaseError

from tessera.accounts.models import User
from tessera.api.models import Scope
from tessera.tickets.models import Event, EventKind, Ticket
from tessera.tickets.services import intake_warnings
from tests.customfields import conftest as field_fixtures

from .osticket_client import MINIMAL, number, ost_fixture, ost_key_fixture  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

forms = field_fixtures.forms  # a hardware form (one required field) on the outage topic

TICKETS = "/api/v1/tickets"


@pytest.fixture
def jane_key(desk, make_key) -> str:
    scopes = [Scope.TICKETS_READ, Scope.TICKETS_WRITE]
    return make_key("Jane's script", agent=desk.jane, scopes=scopes)[1]


def _open(api, key, desk, **extra):
    body = {
        "requester_email": "ken@example.com",
        "subject": "Rack 4 smokes",
        "message": "Since noon.",
        "topic_id": desk.outage.pk,
        **extra,
    }
    return api.post(TICKETS, json.dumps(body), key=key)


def _ticket_part(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key not in {"collaborators", "timeline"}}


@pytest.mark.parametrize("who", ["agent", "system"])
def test_a_ticket_opened_without_fields_answers_what_a_read_shows(api, jane_key, system_key, desk, forms, who):
    key = jane_key if who == "agent" else system_key
    response = _open(api, key, desk)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["fields"] == {}
    shown = api.get(f"{TICKETS}/{created['number']}", key=jane_key).json()
    assert _ticket_part(shown) == created


def test_a_ticket_opened_with_fields_still_answers_them(api, jane_key, desk, forms):
    response = _open(api, jane_key, desk, fields={"asset_tag": "AB-1234", "office": "berlin"})
    assert response.status_code == 201, response.content
    # What was stored, not what was sent: the unanswered check box is saved as unticked.
    assert response.json()["fields"] == {"asset_tag": "AB-1234", "office": "Berlin", "urgent": False}
    shown = api.get(f"{TICKETS}/{response.json()['number']}", key=jane_key).json()
    assert shown["fields"] == response.json()["fields"]


def test_an_empty_fields_object_is_checked_as_an_answer_with_every_field_blank(api, jane_key, desk, forms):
    response = _open(api, jane_key, desk, fields={})
    assert response.status_code == 422
    assert not Ticket.objects.filter(subject="Rack 4 smokes").exists()


def test_osticket_intake_details_are_written_with_the_ticket(ost, desk):
    ticket = Ticket.objects.get(number=number(ost.json({**MINIMAL, "ip": "192.0.2.10", "priority": 99})))
    kinds = set(Event.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert {EventKind.CREATED, EventKind.INTAKE_WARNING, EventKind.INTAKE_DETAILS} <= kinds


def test_osticket_intake_details_that_cannot_be_written_leave_no_ticket_behind(ost, desk, monkeypatch):
    """No savepoint of its own: a failure rolls back the whole intake, requester included."""
    written = intake_warnings._event

    def failing(ticket, actor, kind, *args, **kwargs):
        if kind == EventKind.INTAKE_DETAILS:
            raise DatabaseError("disk full")
        return written(ticket, actor, kind, *args, **kwargs)

    monkeypatch.setattr(intake_warnings, "_event", failing)
    with pytest.raises(DatabaseError):
        ost.json({**MINIMAL, "ip": "192.0.2.10"})
    assert not Ticket.objects.filter(subject=MINIMAL["subject"]).exists()
    assert not User.objects.filter(email=MINIMAL["email"]).exists()
