"""Administrators make, narrow, switch off and delete API keys in the admin; the secret is shown
once, on the page that answers the add form, and never again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from django.utils import timezone

from tessera.api import keys
from tessera.api.models import ApiKey, Scope
from tessera.audit.models import AuditEntry

ADD = "/admin/api/apikey/add/"


@pytest.fixture
def admin_client_(client, desk):
    client.force_login(desk.admin)
    return client


def add_form(**changes):
    return {
        "name": "Monitoring",
        "agent": "",
        "scopes": [Scope.TICKETS_READ, Scope.TICKETS_WRITE],
        "allowed_ips": "192.0.2.0/24\n  10.1.2.3 \n\n2001:db8::/32",
        "expires_at_0": "",
        "expires_at_1": "",
        "rate_limit": "120",
        **changes,
    }


def _secret(response) -> str:
    found = re.search(r'id="api-key-secret"[^>]*value="([^"]+)"', response.content.decode())
    assert found, "the page shows the new key"
    return found.group(1)


def test_an_administrator_creates_a_key_and_sees_its_secret_once(admin_client_, client, desk):
    response = admin_client_.post(ADD, add_form(agent=str(desk.john.pk)))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = _secret(response)
    key = ApiKey.objects.get(name="Monitoring")
    assert key.digest == keys.digest_of(raw) and key.created_by == desk.admin and key.agent == desk.john
    assert key.scopes == [Scope.TICKETS_READ, Scope.TICKETS_WRITE] and key.rate_limit == 120
    assert key.allowed_ips == ["192.0.2.0/24", "10.1.2.3/32", "2001:db8::/32"]
    # The key works from an allowed address …
    assert client.get("/api/v1/me", headers={"X-API-Key": raw}, REMOTE_ADDR="192.0.2.5").status_code == 200
    # … and no later page shows it again: not the list, not the change form, not the history.
    for url in (
        "/admin/api/apikey/",
        f"/admin/api/apikey/{key.pk}/change/",
        f"/admin/api/apikey/{key.pk}/history/",
        "/admin/audit/auditentry/",
    ):
        page = admin_client_.get(url).content.decode()
        assert raw not in page and key.digest not in page, url
    assert key.prefix in admin_client_.get("/admin/api/apikey/").content.decode()
    for entry in AuditEntry.objects.filter(object_id=str(key.pk)):
        assert raw not in str(entry.after) and key.digest not in str(entry.after)


def test_the_secret_is_not_kept_in_the_session_or_a_message(admin_client_, desk):
    response = admin_client_.post(ADD, add_form())
    raw = _secret(response)
    session = admin_client_.session
    assert all(raw not in str(value) for value in session.values())
    assert raw not in str(response.cookies)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"allowed_ips": "10.0.0.0/33"}, "is not an IP address or CIDR range"),
        ({"allowed_ips": "192.0.2.1\nexample.com"}, "is not an IP address or CIDR range"),
        ({"scopes": ["tickets:delete"]}, "tickets:delete"),
        ({"expires_at_0": "2001-01-01", "expires_at_1": "00:00"}, "must be in the future"),
        ({"name": ""}, "This field is required"),
        ({"rate_limit": "-1"}, "greater than or equal to 0"),
    ],
)
def test_a_bad_add_form_is_answered_with_the_reason_and_saves_nothing(admin_client_, desk, changes, message):
    response = admin_client_.post(ADD, add_form(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_duplicate_name_is_refused_whatever_its_case(admin_client_, desk, make_key):
    make_key("Monitoring")
    response = admin_client_.post(ADD, add_form(name="monitoring"))
    assert "already exists" in response.content.decode() and ApiKey.objects.count() == 1


def test_the_change_form_edits_limits_but_never_the_digest_or_name(admin_client_, desk, make_key):
    key, raw = make_key("Monitoring", agent=desk.john)
    page = admin_client_.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()
    assert key.prefix in page and "digest" not in page.lower() and 'name="name"' not in page
    response = admin_client_.post(
        f"/admin/api/apikey/{key.pk}/change/",
        {
            "scopes": [Scope.TICKETS_READ],
            "allowed_ips": "198.51.100.0/24",
            "expires_at_0": (timezone.localdate() + timedelta(days=5)).isoformat(),
            "expires_at_1": "12:00",
            "rate_limit": "30",
            # is_active left out: switched off
            "name": "Renamed",
            "digest": "0" * 64,
        },
    )
    assert response.status_code == 302
    changed = ApiKey.objects.get(pk=key.pk)
    assert changed.scopes == [Scope.TICKETS_READ] and changed.allowed_ips == ["198.51.100.0/24"]
    assert changed.rate_limit == 30 and not changed.is_active and changed.expires_at is not None
    assert changed.name == "Monitoring" and changed.digest == keys.digest_of(raw)
    entry = AuditEntry.objects.filter(object_id=str(key.pk), action="admin_change").latest("pk")
    assert entry.actor == desk.admin and entry.after["is_active"] is False and "digest" not in entry.after


def test_the_list_shows_what_tells_keys_apart(admin_client_, desk, make_key):
    key, _ = make_key("Monitoring", agent=desk.john)
    page = admin_client_.get("/admin/api/apikey/").content.decode()
    for text in ("Monitoring", key.prefix, "John Doe", "tickets:read, tickets:write"):
        assert text in page


def test_switching_keys_off_and_deleting_one(admin_client_, client, desk, make_key):
    one, one_raw = make_key("One")
    two, _ = make_key("Two")
    admin_client_.post("/admin/api/apikey/", {"action": "switch_off", "_selected_action": [one.pk, two.pk]})
    assert not ApiKey.objects.filter(is_active=True).exists()
    assert client.get("/api/v1/me", headers={"X-API-Key": one_raw}).status_code == 401
    admin_client_.post(f"/admin/api/apikey/{one.pk}/delete/", {"post": "yes"})
    assert not ApiKey.objects.filter(pk=one.pk).exists()
    assert AuditEntry.objects.filter(object_id=str(one.pk), action="admin_delete").exists()


def test_only_administrators_reach_the_keys(client, desk, make_key):
    make_key()
    client.force_login(desk.john.user)
    assert client.get("/admin/api/apikey/").status_code == 302
    assert client.post(ADD, add_form(name="Sneaky")).status_code == 302
    assert not ApiKey.objects.filter(name="Sneaky").exists()
