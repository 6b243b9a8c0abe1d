"""Merging and linking tickets through the API: the other tickets must be ones the key sees."""

from __future__ import annotations

from tessera.accounts.models import Membership, Role
from tessera.tickets import services
from tessera.tickets.models import State, TicketLink

from .ticket_helpers import problem

URL = "/api/v1/tickets"


def _open(desk, subject, topic=None):
    return services.open_ticket(desk.ken, requester=desk.ken, subject=subject, message="x", topic=topic or desk.general)


def _manager(desk):
    Membership.objects.filter(agent=desk.john).update(role=Role.objects.get(name="Manager"))


def test_a_manager_key_merges_duplicates_into_a_ticket(api, desk, ken_ticket):
    _manager(desk)
    duplicate = _open(desk, "Printer jams again")
    response = api.post(f"{URL}/{ken_ticket.number}/merge", {"sources": [duplicate.number]})
    assert response.status_code == 200, response.content
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == ken_ticket.pk and duplicate.state == State.CLOSED
    assert api.get(f"{URL}/{duplicate.number}").json()["merged_into"] == ken_ticket.number


def test_merging_an_unseen_ticket_or_without_the_permission_is_refused(api, desk, ken_ticket):
    hidden = _open(desk, "Server down", desk.outage)
    body = problem(api.post(f"{URL}/{ken_ticket.number}/merge", {"sources": [hidden.number]}), 422, "validation")
    assert body["errors"][0]["field"] == "sources.0"
    duplicate = _open(desk, "Printer jams again")
    problem(api.post(f"{URL}/{ken_ticket.number}/merge", {"sources": [duplicate.number]}), 403, "forbidden")
    problem(api.post(f"{URL}/{ken_ticket.number}/merge", {"sources": []}), 422, "validation")


def test_links_are_made_and_undone(api, desk, ken_ticket):
    other = _open(desk, "Scanner too")
    response = api.post(f"{URL}/{ken_ticket.number}/links", {"number": other.number})
    assert response.status_code == 201, response.content
    assert response.json()["numbers"] == [other.number]
    problem(api.post(f"{URL}/{ken_ticket.number}/links", {"number": other.number}), 422, "validation")
    problem(api.post(f"{URL}/{ken_ticket.number}/links", {"number": ken_ticket.number}), 422, "validation")
    response = api.delete(f"{URL}/{ken_ticket.number}/links/{other.number}")
    assert response.status_code == 200 and response.json()["numbers"] == []
    assert not TicketLink.objects.exists()
    problem(api.delete(f"{URL}/{ken_ticket.number}/links/{other.number}"), 422, "validation")


def test_linking_to_a_ticket_the_key_cannot_see_is_refused_like_a_missing_one(api, desk, ken_ticket):
    hidden = _open(desk, "Server down", desk.outage)
    body = problem(api.post(f"{URL}/{ken_ticket.number}/links", {"number": hidden.number}), 422, "validation")
    assert body["errors"][0]["field"] == "number" and "Server" not in str(body)
    problem(api.delete(f"{URL}/{ken_ticket.number}/links/{hidden.number}"), 404, "not-found")
