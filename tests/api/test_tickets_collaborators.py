"""Copying people on a ticket through the API."""

from __future__ import annotations

from tessera.tickets.models import Collaborator, Event, EventKind

from .ticket_helpers import problem

URL = "/api/v1/tickets"


def test_an_agent_key_copies_and_uncopies_someone(api, desk, ken_ticket):
    base = f"{URL}/{ken_ticket.number}/collaborators"
    response = api.post(base, {"email": "Mary@Example.net"})
    assert response.status_code == 201, response.content
    people = response.json()["collaborators"]
    assert [p["email"] for p in people] == ["mary@example.net"]
    assert api.get(f"{URL}/{ken_ticket.number}").json()["collaborators"] == people
    response = api.delete(f"{base}/{people[0]['id']}")
    assert response.status_code == 200 and response.json()["collaborators"] == []
    kinds = list(Event.objects.filter(ticket=ken_ticket, data__via__isnull=False).values_list("kind", flat=True))
    assert kinds == [EventKind.COLLABORATOR_ADDED, EventKind.COLLABORATOR_REMOVED]


def test_copying_the_requester_twice_or_nobody_is_refused(api, desk, ken_ticket):
    base = f"{URL}/{ken_ticket.number}/collaborators"
    assert problem(api.post(base, {"email": "ken@example.com"}), 422, "validation")["errors"][0]["field"] == "email"
    problem(api.post(base, {"email": "not an address"}), 422, "validation")
    problem(api.delete(f"{base}/{desk.ken.pk}"), 422, "validation")  # not copied
    problem(api.delete(f"{base}/999999"), 404, "not-found")
    assert not Collaborator.objects.exists()


def test_a_system_key_cannot_change_who_is_copied(client, desk, ken_ticket, system_key):
    response = client.post(
        f"{URL}/{ken_ticket.number}/collaborators",
        {"email": "mary@example.net"},
        content_type="application/json",
        headers={"X-API-Key": system_key},
    )
    problem(response, 403, "agent-required")
