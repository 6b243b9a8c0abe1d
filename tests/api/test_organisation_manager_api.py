"""`organization_manager` through the REST API: read on every user, changed by PATCH through the
same service as the workspace's form, and refused (422 naming the field) for someone without an
organisation."""

from __future__ import annotations

import pytest

from tessera.accounts.models import User
from tessera.api.models import Scope
from tessera.audit.models import AuditEntry


@pytest.fixture
def people_key(make_key):
    return make_key("CRM", scopes=[Scope.USERS_READ, Scope.USERS_WRITE])[1]


def test_a_customer_is_made_manager_and_back_and_every_read_says_so(api, desk, acme, people_key):
    url = f"/api/v1/users/{desk.ken.pk}"
    assert api.get(url, key=people_key).json()["organization_manager"] is False

    made = api.patch(url, {"organization_manager": True}, key=people_key)
    assert made.status_code == 200, made.content
    assert made.json()["organization_manager"] is True
    assert api.get(url, key=people_key).json()["organization_manager"] is True
    desk.ken.refresh_from_db()
    assert desk.ken.organization_manager
    audit = AuditEntry.objects.get(object_type="accounts.user", object_id=str(desk.ken.pk))
    assert audit.after == {"organization_manager": True}

    # Other changes leave it alone; null keeps it too.
    assert api.patch(url, {"name": "Kenneth", "organization_manager": None}, key=people_key).json()[
        "organization_manager"
    ]
    cleared = api.patch(url, {"organization_manager": False}, key=people_key)
    assert cleared.status_code == 200 and cleared.json()["organization_manager"] is False


def test_someone_without_an_organisation_cannot_be_made_manager(api, desk, people_key):
    response = api.patch(f"/api/v1/users/{desk.ken.pk}", {"organization_manager": True}, key=people_key)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert "organization_manager" in [e["field"] for e in response.json()["errors"]]
    desk.ken.refresh_from_db()
    assert not desk.ken.organization_manager


def test_leaving_the_organisation_clears_the_flag_and_asking_for_both_is_refused(api, desk, acme, people_key):
    url = f"/api/v1/users/{desk.ken.pk}"
    both = api.patch(url, {"organisation": None, "organization_manager": True}, key=people_key)
    assert both.status_code == 422 and "organization_manager" in [e["field"] for e in both.json()["errors"]]

    api.patch(url, {"organization_manager": True}, key=people_key)
    left = api.patch(url, {"organisation": None}, key=people_key)
    assert left.status_code == 200 and left.json()["organization_manager"] is False
    desk.ken.refresh_from_db()
    assert (desk.ken.organization_id, desk.ken.organization_manager) == (None, False)


def test_agents_are_not_made_managers_through_the_api(api, desk, acme, people_key):
    jane = desk.jane.user
    jane.organization = acme
    jane.save()
    response = api.patch(f"/api/v1/users/{jane.pk}", {"organization_manager": True}, key=people_key)
    assert response.status_code == 403
    jane.refresh_from_db()
    assert not jane.organization_manager


def test_a_new_user_is_made_manager_in_the_same_call(api, desk, acme, people_key):
    made = api.post(
        "/api/v1/users",
        {"email": "Mia@Acme.example", "name": "Mia", "organisation": acme.pk, "organization_manager": True},
        key=people_key,
    )
    assert made.status_code == 201, made.content
    assert made.json()["organization_manager"] is True and made.json()["organisation"] == acme.pk
    assert api.get(f"/api/v1/users/{made.json()['id']}", key=people_key).json()["organization_manager"] is True


def test_a_new_user_placed_by_their_domain_may_be_its_manager(api, desk, acme, people_key):
    acme.domains.create(domain="acme.example")
    made = api.post("/api/v1/users", {"email": "ola@acme.example", "organization_manager": True}, key=people_key)
    assert made.status_code == 201, made.content
    assert (made.json()["organisation"], made.json()["organization_manager"]) == (acme.pk, True)


def test_a_new_user_without_an_organisation_is_not_made_manager_and_not_created(api, desk, people_key):
    refused = api.post("/api/v1/users", {"email": "solo@example.net", "organization_manager": True}, key=people_key)
    assert refused.status_code == 422, refused.content
    assert "organization_manager" in [e["field"] for e in refused.json()["errors"]]
    assert not User.objects.filter(email="solo@example.net").exists()
    plain = api.post("/api/v1/users", {"email": "solo@example.net"}, key=people_key)
    assert plain.status_code == 201 and plain.json()["organization_manager"] is False
