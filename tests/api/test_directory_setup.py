"""The desk's set-up through the API: read with tickets:read (or users:read for people's places),
changed only with the admin scope, and only by an administrator's key when it acts as an agent."""

from __future__ import annotations

import pytest

from tessera.accounts.models import Department, Team
from tessera.api.models import Scope
from tessera.audit.models import AuditEntry
from tessera.rules.models import Rule
from tessera.tickets.models import HelpTopic, Priority
from tessera.tickets.models import Status as TicketStatus


@pytest.fixture
def admin_key(make_key):
    """A system integration that keeps the set-up in step with another tool."""
    return make_key("Provisioning", scopes=[Scope.ADMIN])[1]


@pytest.mark.parametrize(
    "path", ["agents", "departments", "teams", "topics", "priorities", "statuses", "sla-plans", "routing-rules"]
)
def test_every_list_reads_with_a_ticket_key_and_pages(api, desk, make_key, path):
    _, reader = make_key("Reader", scopes=[Scope.TICKETS_READ])
    response = api.get(f"/api/v1/{path}", {"limit": 1}, key=reader)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"items", "next_cursor"} and len(body["items"]) <= 1
    if body["items"]:
        item = api.get(f"/api/v1/{path}/{body['items'][0]['id']}", key=reader)
        assert item.status_code == 200 and item.json() == body["items"][0]


def test_john_reads_departments_and_agents_but_not_the_routing_rules(api, desk):
    assert {d["name"] for d in api.get("/api/v1/departments").json()["items"]} >= {"Support", "Billing"}
    john = api.get(f"/api/v1/agents/{desk.john.pk}").json()
    assert john["email"] == "john@example.com" and john["departments"][0]["department"] == desk.support.pk
    Rule.objects.create(name="Printers", order=1)
    refused = api.get("/api/v1/routing-rules")
    assert refused.status_code == 403 and refused.json()["type"].endswith("/forbidden")


def test_a_key_without_a_reading_scope_is_refused(api, desk, make_key):
    _, osticket = make_key("Intake", scopes=[Scope.OSTICKET])
    response = api.get("/api/v1/priorities", key=osticket)
    assert response.status_code == 403 and response.json()["type"].endswith("/scope")


def test_an_admin_key_creates_and_changes_a_department_with_an_audit_record(api, desk, admin_key):
    created = api.post(
        "/api/v1/departments", {"name": "Field Service", "parent": desk.support.pk, "auto_close_days": 5}, key=admin_key
    )
    assert created.status_code == 201, created.content
    field = Department.objects.get(name="Field Service")
    assert field.parent == desk.support and field.auto_close_days == 5
    changed = api.patch(f"/api/v1/departments/{field.pk}", {"auto_close_days": None}, key=admin_key)
    assert changed.status_code == 200 and changed.json()["auto_close_days"] is None
    assert AuditEntry.objects.filter(object_type="accounts.department", object_id=str(field.pk)).count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Support"}, "name"),  # taken
        ({"name": ""}, "name"),
        ({"name": "X", "assignment_mode": "lottery"}, "assignment_mode"),
        ({"name": "X", "auto_close_days": 0}, "auto_close_days"),
        ({"name": "X", "auto_close_days": -3}, "auto_close_days"),
        ({"name": "X", "parent": 99999}, "parent"),
        ({"name": "X", "email": "not-mail"}, "email"),
        ({"name": "X\x00"}, "name"),
        ({"name": "X", "is_public": "perhaps"}, "is_public"),
    ],
)
def test_a_bad_department_is_a_422_naming_the_field(api, desk, admin_key, body, field):
    response = api.post("/api/v1/departments", body, key=admin_key)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not Department.objects.filter(name="X").exists()


def test_a_department_cannot_be_put_under_itself(api, desk, admin_key):
    child = Department.objects.create(name="Desk-side", parent=desk.support)
    response = api.patch(f"/api/v1/departments/{desk.support.pk}", {"parent": child.pk}, key=admin_key)
    assert response.status_code == 422 and "under itself" in response.json()["detail"]
    desk.support.refresh_from_db()
    assert desk.support.parent is None


def test_writing_the_set_up_needs_the_admin_scope_and_an_administrator(api, desk, make_key):
    # John's key has tickets:write only.
    assert api.post("/api/v1/priorities", {"name": "Sev-Z", "urgency": 9}).json()["type"].endswith("/scope")
    # An admin-scoped key acting as John is still John, who is not an administrator.
    _, johns_admin = make_key("John with admin", agent=desk.john, scopes=[Scope.ADMIN])
    refused = api.post("/api/v1/priorities", {"name": "Sev-Z", "urgency": 9}, key=johns_admin)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/forbidden")
    assert not Priority.objects.filter(name="Sev-Z").exists()


def test_priorities_take_the_admin_forms_colour_rule(api, desk, admin_key):
    created = api.post("/api/v1/priorities", {"name": "Sev-Z", "urgency": 9, "colour": "#ABCDEF"}, key=admin_key)
    assert created.status_code == 201 and created.json()["colour"] == "#abcdef"
    bad = api.post("/api/v1/priorities", {"name": "Sev-Y", "urgency": 10, "colour": "red"}, key=admin_key)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "colour"
    taken = api.post("/api/v1/priorities", {"name": "Sev-Y", "urgency": 9}, key=admin_key)
    assert taken.status_code == 422  # urgency is unique
    huge = api.post("/api/v1/priorities", {"name": "Sev-Y", "urgency": 10**9}, key=admin_key)
    assert huge.status_code == 422


def test_help_topics_and_teams_are_created_and_changed(api, desk, admin_key):
    topic = api.post(
        "/api/v1/topics", {"name": "Laptops", "department": desk.support.pk, "is_public": False}, key=admin_key
    )
    assert topic.status_code == 201, topic.content
    assert HelpTopic.objects.get(name="Laptops").department == desk.support
    moved = api.patch(f"/api/v1/topics/{topic.json()['id']}", {"department": 2**40}, key=admin_key)
    assert moved.status_code == 422
    team = api.post("/api/v1/teams", {"name": "Night shift", "members": [desk.john.pk]}, key=admin_key)
    assert team.status_code == 201 and team.json()["members"] == [desk.john.pk]
    changed = api.patch(
        f"/api/v1/teams/{team.json()['id']}",
        {"members": [desk.jane.pk, desk.john.pk], "lead": desk.jane.pk},
        key=admin_key,
    )
    assert changed.json()["members"] == sorted([desk.jane.pk, desk.john.pk]) and changed.json()["lead"] == desk.jane.pk
    unknown = api.patch(f"/api/v1/teams/{team.json()['id']}", {"members": [999999]}, key=admin_key)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "members"
    assert list(Team.objects.get(name="Night shift").members.order_by("pk")) == sorted(
        [desk.jane, desk.john], key=lambda a: a.pk
    )
    assert AuditEntry.objects.filter(object_type="accounts.team", detail="team members").count() == 2


def test_an_admin_scoped_system_key_reads_the_routing_rules(api, desk, admin_key):
    Rule.objects.create(name="Printers", order=1)
    rules = api.get("/api/v1/routing-rules", key=admin_key).json()["items"]
    assert [r["name"] for r in rules] == ["Printers"]


@pytest.mark.parametrize("body", ["not json", "[]", '{"name": 5}', "null"])
def test_a_malformed_body_is_a_problem_never_a_500(api, desk, admin_key, body):
    response = api.post("/api/v1/departments", body, key=admin_key)
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"


def test_an_admin_key_adds_a_status_and_renames_it(api, desk, admin_key):
    created = api.post("/api/v1/statuses", {"name": "Waiting on vendor", "state": "pending", "order": 5}, key=admin_key)
    assert created.status_code == 201, created.content
    waiting = TicketStatus.objects.get(name="Waiting on vendor")
    assert waiting.state == "pending" and not waiting.is_default
    renamed = api.patch(f"/api/v1/statuses/{waiting.pk}", {"name": "Waiting on a supplier"}, key=admin_key)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Waiting on a supplier"
    assert AuditEntry.objects.filter(object_type="tickets.status", object_id=str(waiting.pk)).count() == 2


def test_a_second_default_for_a_state_or_an_unknown_state_is_a_422(api, desk, admin_key):
    second = api.post("/api/v1/statuses", {"name": "Also open", "state": "open", "is_default": True}, key=admin_key)
    assert second.status_code == 422 and not TicketStatus.objects.filter(name="Also open").exists()
    unknown = api.post("/api/v1/statuses", {"name": "Limbo", "state": "limbo"}, key=admin_key)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "state"


def test_a_status_that_tickets_have_keeps_its_state_in_the_api_and_the_admin(api, client, desk, admin_key, ken_ticket):
    refused = api.patch(f"/api/v1/statuses/{desk.open.pk}", {"state": "closed"}, key=admin_key)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "state"
    client.force_login(desk.admin)
    page = client.post(
        f"/admin/tickets/status/{desk.open.pk}/change/",
        {"name": desk.open.name, "state": "closed", "order": desk.open.order, "is_default": "on"},
    )
    assert page.status_code == 200 and "cannot change" in page.content.decode()
    desk.open.refresh_from_db()
    assert desk.open.state == "open"
    ken_ticket.refresh_from_db()
    assert ken_ticket.state == "open"


def test_only_an_admin_scope_writes_statuses(api, desk, make_key):
    _, reader = make_key("Reader", scopes=[Scope.TICKETS_READ, Scope.TICKETS_WRITE])
    response = api.post("/api/v1/statuses", {"name": "Sneaky", "state": "closed"}, key=reader)
    assert response.status_code == 403 and not TicketStatus.objects.filter(name="Sneaky").exists()
