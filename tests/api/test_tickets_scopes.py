"""Every ticket endpoint against every kind of key: another department's agent sees nothing,
a read-only key changes nothing, a system key does no agent's work. Each refusal leaves the
ticket as it was."""

from __future__ import annotations

import pytest

from django.core.files.uploadedfile import SimpleUploadedFile

from tessera.tickets import services
from tessera.tickets.attachments import Upload
from tessera.tickets.models import Attachment, Ticket

from .ticket_helpers import problem


def _endpoints(desk, ticket, other, file_id):
    """(method, path, body, agent only) for every endpoint that names a ticket."""
    base = f"/api/v1/tickets/{ticket.number}"
    return [
        ("get", base, None, False),
        ("get", f"{base}/attachments/{file_id}", None, False),
        ("post", f"{base}/reply", {"message": "Hello"}, False),
        ("post", f"{base}/notes", {"note": "Hello"}, True),
        ("post", f"{base}/assign", {"team_id": desk.ops.pk}, True),
        ("post", f"{base}/claim", {}, True),
        ("post", f"{base}/release", {}, True),
        ("post", f"{base}/transfer", {"department_id": desk.sysadmin.pk}, True),
        ("post", f"{base}/priority", {"priority_id": desk.sev_a.pk}, True),
        ("post", f"{base}/status", {"status_id": desk.resolved.pk}, True),
        ("post", f"{base}/collaborators", {"email": "mary@example.net"}, True),
        ("delete", f"{base}/collaborators/{desk.ken.pk}", None, True),
        ("post", f"{base}/merge", {"sources": [other.number]}, True),
        ("post", f"{base}/links", {"number": other.number}, True),
        ("delete", f"{base}/links/{other.number}", None, True),
        ("post", f"{base}/attachments", None, True),
    ]


ENDPOINT_IDS = [
    "read", "download", "reply", "note", "assign", "claim", "release", "transfer", "priority", "status",
    "add-collaborator", "remove-collaborator", "merge", "link", "unlink", "upload",
]  # fmt: skip


@pytest.fixture
def scene(desk):
    ticket = services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject="Printer jams",
        message="x",
        topic=desk.general,
        uploads=[Upload("photo.txt", b"jam", "text/plain")],
    )
    other = services.open_ticket(desk.ken, requester=desk.ken, subject="Scanner", message="y", topic=desk.general)
    return ticket, other, Attachment.objects.get().pk


def _send(client, method, path, body, key):
    headers = {"X-API-Key": key}
    if method == "get":
        return client.get(path, headers=headers)
    if method == "delete":
        return client.delete(path, headers=headers)
    if path.endswith("/attachments"):
        upload = SimpleUploadedFile("a.txt", b"a", content_type="text/plain")
        return client.post(path, {"kind": "note", "message": "x", "files": [upload]}, headers=headers)
    return client.post(path, body, content_type="application/json", headers=headers)


def _state(ticket):
    return Ticket.objects.filter(pk=ticket.pk).values().get()


@pytest.mark.parametrize("index", range(16), ids=ENDPOINT_IDS)
def test_an_agent_of_another_department_gets_404_everywhere(client, desk, scene, bill_key, index):
    ticket, other, file_id = scene
    method, path, body, _agent_only = _endpoints(desk, ticket, other, file_id)[index]
    before = _state(ticket)
    problem(_send(client, method, path, body, bill_key), 404, "not-found")
    assert _state(ticket) == before


@pytest.mark.parametrize("index", range(2, 16), ids=ENDPOINT_IDS[2:])
def test_a_read_only_key_cannot_write(client, desk, scene, read_only_key, index):
    ticket, other, file_id = scene
    method, path, body, _agent_only = _endpoints(desk, ticket, other, file_id)[index]
    before = _state(ticket)
    body = problem(_send(client, method, path, body, read_only_key), 403, "scope")
    assert "tickets:write" in body["detail"]
    assert _state(ticket) == before


@pytest.mark.parametrize("index", range(16), ids=ENDPOINT_IDS)
def test_a_system_key_does_no_agents_work(client, desk, scene, system_key, index):
    ticket, other, file_id = scene
    method, path, body, agent_only = _endpoints(desk, ticket, other, file_id)[index]
    response = _send(client, method, path, body, system_key)
    if agent_only:
        problem(response, 403, "agent-required")
    else:
        assert response.status_code in (200, 201), response.content


def test_a_write_only_key_cannot_read(client, desk, scene, make_key):
    ticket, _other, _file = scene
    key = make_key("Intake only", agent=desk.john, scopes=["tickets:write"])[1]
    problem(client.get("/api/v1/tickets", headers={"X-API-Key": key}), 403, "scope")
    problem(client.get(f"/api/v1/tickets/{ticket.number}", headers={"X-API-Key": key}), 403, "scope")


def test_listing_and_opening_need_their_scopes(client, desk, read_only_key, make_key):
    payload = {"requester_email": "n@example.org", "subject": "a", "message": "b", "topic_id": desk.general.pk}
    response = client.post(
        "/api/v1/tickets", payload, content_type="application/json", headers={"X-API-Key": read_only_key}
    )
    problem(response, 403, "scope")
    assert not Ticket.objects.exists()
    osticket_only = make_key("Legacy", scopes=["osticket"])[1]
    problem(client.get("/api/v1/tickets", headers={"X-API-Key": osticket_only}), 403, "scope")


def test_every_endpoint_wants_a_key(client, desk, scene):
    ticket, other, file_id = scene
    for method, path, _body, _agent_only in _endpoints(desk, ticket, other, file_id):
        problem(getattr(client, method)(path), 401, "unauthenticated")
    problem(client.get("/api/v1/tickets"), 401, "unauthenticated")
    problem(client.post("/api/v1/tickets"), 401, "unauthenticated")
