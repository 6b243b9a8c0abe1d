"""Users and organisations through the API: read with users:read, changed with users:write, an
agent key held to what its agent may do, and every refusal a problem document."""

from __future__ import annotations

import pytest

from tessera.accounts.models import Organization, User
from tessera.api.models import Scope
from tessera.audit.models import AuditEntry

READ_WRITE = [Scope.USERS_READ, Scope.USERS_WRITE]


@pytest.fixture
def people_key(make_key):
    """A system integration (a CRM) that reads and writes people."""
    return make_key("CRM", scopes=READ_WRITE)[1]


def test_users_are_listed_page_by_page_with_a_cursor(api, desk, people_key):
    seen, cursor = [], None
    for _ in range(10):
        response = api.get("/api/v1/users", {"limit": 2, **({"cursor": cursor} if cursor else {})}, key=people_key)
        assert response.status_code == 200
        body = response.json()
        seen += [u["email"] for u in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(User.objects.values_list("email", flat=True)) and len(seen) == len(set(seen))


def test_a_user_is_found_by_address_and_read(api, desk, people_key):
    found = api.get("/api/v1/users", {"email": "KEN@example.com"}, key=people_key).json()["items"]
    assert [u["id"] for u in found] == [desk.ken.pk]
    ken = api.get(f"/api/v1/users/{desk.ken.pk}", key=people_key).json()
    assert ken["email"] == "ken@example.com" and ken["is_agent"] is False


def test_an_end_user_is_created_and_changed_with_an_audit_record(api, desk, people_key):
    org = Organization.objects.create(name="Acme")
    created = api.post(
        "/api/v1/users", {"email": " New@Example.com ", "name": "Nia New", "organisation": org.pk}, key=people_key
    )
    assert created.status_code == 201, created.content
    user = User.objects.get(email="new@example.com")
    assert user.organization == org and not user.has_usable_password()
    changed = api.patch(
        f"/api/v1/users/{user.pk}", {"name": "Nia Newer", "organisation": None, "phone": "+1 555 0100"}, key=people_key
    )
    assert changed.status_code == 200
    assert changed.json()["name"] == "Nia Newer" and changed.json()["organisation"] is None
    assert changed.json()["phone"] == "+1 555 0100"
    user.refresh_from_db()
    assert user.organization is None and user.email == "new@example.com"
    details = list(AuditEntry.objects.filter(object_id=str(user.pk)).values_list("detail", flat=True))
    assert "user created" in details and "user changed" in details


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"email": "ken@example.com"}, "email"),  # taken
        ({"email": "a@example.com", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"email": "a@example.com", "organisation": 999999}, "organization"),
        ({"email": "a@example.com", "organisation": 2**70}, "organisation"),
        ({"email": "a@example.com", "name": "x" * 151}, "name"),
        ({"email": "a@example.com", "phone": "javascript:alert(1)"}, "phone"),
        ({"email": "a@exa\x00mple.com"}, "email"),
        ({"name": "No address"}, "email"),
        ({"email": ["a@example.com"]}, "email"),
    ],
)
def test_a_bad_user_is_a_422_naming_the_field(api, desk, people_key, body, field):
    response = api.post("/api/v1/users", body, key=people_key)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not User.objects.filter(name__in=["No address"]).exists()


def test_agents_and_administrators_are_not_changed_through_the_api(api, desk, people_key):
    for person in (desk.john.user, desk.admin):
        response = api.patch(f"/api/v1/users/{person.pk}", {"email": "attacker@example.net"}, key=people_key)
        assert response.status_code == 403 and response.json()["type"].endswith("/forbidden")
        person.refresh_from_db()
        assert person.email != "attacker@example.net"


def test_a_read_only_key_cannot_write_and_a_ticket_key_cannot_read_people(api, desk, make_key):
    _, reader = make_key("Reader", scopes=[Scope.USERS_READ])
    refused = api.post("/api/v1/users", {"email": "x@example.com"}, key=reader)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/scope")
    assert not User.objects.filter(email="x@example.com").exists()
    # John's key (tickets only) may not list people.
    assert api.get("/api/v1/users").json()["type"].endswith("/scope")


def test_an_agent_key_adds_end_users_but_not_organisations(api, desk, make_key):
    _, johns = make_key("John's CRM", agent=desk.john, scopes=READ_WRITE)
    assert api.post("/api/v1/users", {"email": "cust@example.com"}, key=johns).status_code == 201
    refused = api.post("/api/v1/organisations", {"name": "Acme"}, key=johns)
    assert refused.status_code == 403 and not Organization.objects.filter(name="Acme").exists()


def test_organisations_are_created_changed_and_read(api, desk, people_key):
    created = api.post("/api/v1/organisations", {"name": "Acme", "domain": "ACME.example"}, key=people_key)
    assert created.status_code == 201 and created.json()["domain"] == "acme.example"
    org_id = created.json()["id"]
    assert api.post("/api/v1/organisations", {"name": "Acme"}, key=people_key).status_code == 422  # name taken
    changed = api.patch(f"/api/v1/organisations/{org_id}", {"name": "Acme Ltd"}, key=people_key)
    assert changed.json()["name"] == "Acme Ltd"
    listed = api.get("/api/v1/organisations", key=people_key).json()["items"]
    assert [o["name"] for o in listed] == ["Acme Ltd"]
    # Created, its email domains, renamed.
    assert AuditEntry.objects.filter(object_type="accounts.organization", object_id=str(org_id)).count() == 3
    assert api.get(f"/api/v1/organisations/{org_id}", key=people_key).json()["domains"] == ["acme.example"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users/999999",
        "/api/v1/users/0",
        "/api/v1/users/-4",
        f"/api/v1/users/{2**70}",
        "/api/v1/organisations/999999",
    ],
)
def test_an_unknown_or_absurd_id_is_a_404_problem(api, desk, people_key, path):
    response = api.get(path, key=people_key)
    assert response.status_code == 404 and response.json()["type"].endswith("/not-found")


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "garbage"},
        {"cursor": "aWQ6LTE"},  # "id:-1"
        {"cursor": "\x00"},
        {"limit": 0},
        {"limit": 10**30},
        {"limit": "many"},
        {"email": "a\x00b"},
    ],
)
def test_bad_list_parameters_are_a_422_problem_never_a_500(api, desk, people_key, query):
    response = api.get("/api/v1/users", query, key=people_key)
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"] == "application/problem+json"


def test_an_organisation_id_no_database_could_hold_finds_nobody(api, desk, people_key):
    response = api.get("/api/v1/users", {"organisation": 2**70}, key=people_key)
    assert response.status_code == 200 and response.json()["items"] == []
