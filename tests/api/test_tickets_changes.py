"""Opening tickets and changing who works them, their priority and status, through the API:
the same services as the workspace, the same Events, each naming the key it came through."""

from __future__ import annotations

from tessera.accounts.models import User
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import Event, EventKind, Source, State, Ticket

from .ticket_helpers import problem

URL = "/api/v1/tickets"


def test_an_agent_key_opens_a_ticket_for_a_new_requester(api, desk):
    response = api.post(
        URL,
        {
            "requester_email": "Nina@Example.org",
            "requester_name": "Nina North",
            "subject": "VPN drops",
            "message": "Every hour.",
            "topic_id": desk.general.pk,
            "priority_id": desk.sev_b.pk,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(number=body["number"])
    assert ticket.user.email == "nina@example.org" and ticket.user.name == "Nina North"
    assert ticket.source == Source.API and ticket.priority == desk.sev_b and ticket.department == desk.support
    assert response["Location"] == f"{URL}/{ticket.number}"
    assert response["ETag"] == f'"{ticket.number}-{ticket.version}"'
    created = Event.objects.get(ticket=ticket, kind=EventKind.CREATED)
    assert created.actor == desk.john.user and created.data["via"] == "API key “John's script”"


def test_a_system_key_opens_a_ticket_as_its_requester(client, desk, system_key):
    headers = {"X-API-Key": system_key}
    payload = {
        "requester_email": "ken@example.com",
        "subject": "Disk full",
        "message": "On /var.",
        "topic_id": desk.internal.pk,
    }
    response = client.post(URL, payload, content_type="application/json", headers=headers)
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(number=response.json()["number"])
    assert ticket.user == desk.ken and ticket.department == desk.sysadmin
    assert Event.objects.get(ticket=ticket, kind=EventKind.CREATED).actor == desk.ken
    # A monitoring tool knows how urgent its alarm is, as with osTicket's API.
    urgent = client.post(
        URL, {**payload, "priority_id": desk.sev_a.pk}, content_type="application/json", headers=headers
    )
    assert urgent.status_code == 201 and urgent.json()["priority"]["id"] == desk.sev_a.pk


def test_a_system_key_cannot_open_a_ticket_in_a_staff_members_name(client, desk, system_key):
    payload = {
        "requester_email": "admin@example.com",
        "subject": "Hi",
        "message": "From Ada?",
        "topic_id": desk.general.pk,
    }
    body = problem(
        client.post(URL, payload, content_type="application/json", headers={"X-API-Key": system_key}), 422, "validation"
    )
    assert body["errors"][0]["field"] == "requester_email"
    assert not Ticket.objects.exists()


def test_opening_a_ticket_names_each_field_it_refuses(api, desk):
    body = problem(api.post(URL, {"requester_email": "nobody", "subject": "", "message": "x"}), 422, "validation")
    assert body["errors"][0]["field"] == "requester_email"
    body = problem(
        api.post(URL, {"requester_email": "n@example.org", "subject": " ", "message": "", "topic_id": desk.general.pk}),
        422,
        "validation",
    )
    assert {e["field"] for e in body["errors"]} == {"subject", "message"}
    assert not User.objects.filter(email="n@example.org").exists(), "a refused ticket leaves no account behind"
    body = problem(
        api.post(URL, {"requester_email": "n@example.org", "subject": "a", "message": "b", "topic_id": 999999}),
        422,
        "validation",
    )
    assert body["errors"] == [{"field": "topic_id", "message": "There is no such help topic."}]
    problem(api.post(URL, {"subject": "no requester"}), 422, "validation")
    problem(api.post(URL, "{not json", content_type="application/json"), 400, "bad-request")


def test_assign_claim_release_transfer_priority_and_status(api, desk, ken_ticket):
    base = f"{URL}/{ken_ticket.number}"
    response = api.post(f"{base}/claim")
    assert response.status_code == 200 and response.json()["assignee"]["email"] == "john@example.com"
    assert api.post(f"{base}/release").json()["assignee"] is None
    assert api.post(f"{base}/assign", {"team_id": desk.ops.pk}).json()["team"]["name"] == desk.ops.name
    assert api.post(f"{base}/priority", {"priority_id": desk.sev_a.pk}).json()["priority"]["id"] == desk.sev_a.pk
    body = api.post(f"{base}/status", {"status_id": desk.resolved.pk, "note": "Fixed the tray."}).json()
    assert body["state"] == State.RESOLVED
    reopened = api.post(f"{base}/status", {"status_id": desk.open.pk}).json()
    assert reopened["state"] == State.OPEN
    moved = api.post(f"{base}/transfer", {"department_id": desk.sysadmin.pk})
    assert moved.status_code == 200 and moved.json()["department"]["name"] == "System Administration"
    kinds = list(Event.objects.filter(ticket=ken_ticket).order_by("pk").values_list("kind", "data__via"))
    assert {kind for kind, _via in kinds} >= {"claimed", "released", "assigned", "priority", "status", "transferred"}
    assert all(via == "API key “John's script”" for kind, via in kinds if kind != "created")


def test_a_refused_change_is_a_problem_naming_the_field(api, desk, ken_ticket):
    base = f"{URL}/{ken_ticket.number}"
    body = problem(api.post(f"{base}/assign", {}), 422, "validation")
    assert body["errors"][0]["field"] == "agent_id"
    body = problem(api.post(f"{base}/assign", {"agent_id": 999999}), 422, "validation")
    assert body["errors"][0]["field"] == "agent_id"
    body = problem(api.post(f"{base}/priority", {"priority_id": ken_ticket.priority_id}), 422, "validation")
    assert body["errors"][0]["field"] == "priority_id"
    problem(api.post(f"{base}/release"), 422, "validation")  # nobody has it
    problem(api.post(f"{base}/priority", {"priority_id": 2**70}), 422, "validation")


def test_what_the_agents_role_does_not_allow_is_a_403(client, desk, ken_ticket, make_key):
    olga = make_key("Olga's script", agent=desk.olga)[1]  # an observer in Support
    response = client.post(
        f"{URL}/{ken_ticket.number}/priority",
        {"priority_id": desk.sev_a.pk},
        content_type="application/json",
        headers={"X-API-Key": olga},
    )
    problem(response, 403, "forbidden")
    ken_ticket.refresh_from_db()
    assert ken_ticket.priority != desk.sev_a


def test_the_workspace_timeline_says_which_key_made_a_change(api, desk, ken_ticket):
    api.post(f"{URL}/{ken_ticket.number}/claim")
    event = Event.objects.get(ticket=ken_ticket, kind=EventKind.CLAIMED)
    assert event_sentence(event) == "John Doe claimed the ticket, through API key “John's script”"
    detail = api.get(f"{URL}/{ken_ticket.number}").json()
    claimed = next(i for i in detail["timeline"] if i["type"] == "event" and i["kind"] == "claimed")
    assert claimed["via"] == "API key “John's script”"
