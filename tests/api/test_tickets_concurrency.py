"""ETag and If-Match: a change made from a stale read answers 412, as the workspace refuses a
stale form, and changes nothing."""

from __future__ import annotations

import pytest

from tessera.tickets import services
from tessera.tickets.models import Ticket

from .ticket_helpers import etag, problem

URL = "/api/v1/tickets"


def test_reads_and_changes_answer_the_current_etag(api, desk, ken_ticket):
    first = api.get(f"{URL}/{ken_ticket.number}")["ETag"]
    assert first == etag(ken_ticket)
    changed = api.post(f"{URL}/{ken_ticket.number}/claim", headers={"If-Match": first})
    assert changed.status_code == 200
    assert changed["ETag"] == etag(ken_ticket) != first
    assert changed.json()["version"] == ken_ticket.version


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("priority", {"priority_id": "sev_a"}),
        ("status", {"status_id": "resolved"}),
        ("reply", {"message": "Late answer"}),
        ("notes", {"note": "Late note"}),
        ("assign", {"team_id": "ops"}),
        ("claim", {}),
        ("collaborators", {"email": "mary@example.net"}),
    ],
)
def test_a_change_from_a_stale_read_is_a_412_and_changes_nothing(api, desk, ken_ticket, path, body):
    stale = etag(ken_ticket)
    services.set_priority(desk.john.user, ken_ticket, priority=desk.sev_b)  # a colleague was quicker
    body = {
        k: {"sev_a": desk.sev_a.pk, "resolved": desk.resolved.pk, "ops": desk.ops.pk}.get(v, v) for k, v in body.items()
    }
    before = Ticket.objects.filter(pk=ken_ticket.pk).values().get()
    response = api.post(f"{URL}/{ken_ticket.number}/{path}", body, headers={"If-Match": stale})
    detail = problem(response, 412, "precondition-failed")["detail"]
    assert "changed since you read it" in detail
    assert response["ETag"] == etag(ken_ticket)
    assert Ticket.objects.filter(pk=ken_ticket.pk).values().get() == before


def test_if_match_for_another_ticket_a_weak_tag_or_garbage_never_matches(api, desk, ken_ticket):
    other = services.open_ticket(desk.ken, requester=desk.ken, subject="Other", message="x", topic=desk.general)
    for header in (etag(other), "banana", '"abc"', "W/" + etag(ken_ticket)):
        problem(api.post(f"{URL}/{ken_ticket.number}/claim", headers={"If-Match": header}), 412, "precondition-failed")
    ken_ticket.refresh_from_db()
    assert ken_ticket.assignee is None


def test_if_match_star_or_a_list_with_the_current_tag_goes_through(api, desk, ken_ticket):
    assert api.post(f"{URL}/{ken_ticket.number}/claim", headers={"If-Match": "*"}).status_code == 200
    listed = f'"1-1", {etag(ken_ticket)}'
    assert api.post(f"{URL}/{ken_ticket.number}/release", headers={"If-Match": listed}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "collaborators", {"email": "mary@example.net"}),
        ("post", "links", {"number": "other"}),
    ],
)
def test_a_change_landing_between_the_read_and_a_collaborator_or_link_change_is_a_412(
    api, desk, ken_ticket, monkeypatch, method, path, body
):
    """The services for people and links take no version: the API compares it with the row
    locked, so a colleague's change that lands after the request read the ticket still counts."""
    from tessera.api import tickets as api_tickets

    other = services.open_ticket(desk.ken, requester=desk.ken, subject="Other", message="x", topic=desk.general)
    body = {k: other.number if v == "other" else v for k, v in body.items()}
    current = etag(ken_ticket)
    read = api_tickets._ticket

    def read_then_a_colleague_changes_it(request, number):
        found = read(request, number)
        if number == ken_ticket.number:
            services.set_priority(desk.john.user, Ticket.objects.get(pk=ken_ticket.pk), priority=desk.sev_b)
        return found

    monkeypatch.setattr(api_tickets, "_ticket", read_then_a_colleague_changes_it)
    response = getattr(api, method)(f"{URL}/{ken_ticket.number}/{path}", body, headers={"If-Match": current})
    problem(response, 412, "precondition-failed")
    ken_ticket.refresh_from_db()
    assert response["ETag"] == etag(ken_ticket)
    assert not ken_ticket.collaborators.exists()
    assert not ken_ticket.links_out.exists() and not ken_ticket.links_in.exists()
