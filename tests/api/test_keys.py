"""API keys: shown once, stored hashed, refused clearly when they may not be used."""

from __future__ import annotations

from datetime import timedelta

import pytest

from django.core.exceptions import ValidationError
from django.utils import timezone

from tessera.api import keys
from tessera.api.models import ApiKey, Scope
from tessera.audit.models import AuditEntry


def test_a_new_key_is_shown_once_and_only_its_digest_is_kept(desk, make_key):
    key, raw = make_key()
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw.startswith("tsk_") and len(raw) > 40
    assert raw not in (stored.digest, stored.prefix) and stored.prefix == raw[: len(stored.prefix)]
    assert stored.digest == keys.digest_of(raw)
    entry = AuditEntry.objects.filter(object_id=str(key.pk)).get()
    assert raw not in str(entry.after) and stored.digest not in str(entry.after)


def test_the_key_answers_who_it_is(api, desk):
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["agent"] == "john@example.com"
    assert response.json()["scopes"] == sorted([Scope.TICKETS_READ, Scope.TICKETS_WRITE])
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ({}, "Send your API key"),
        ({"Authorization": "Bearer tsk_not-a-real-key"}, "not known"),
        ({"X-API-Key": "tsk_not-a-real-key"}, "not known"),
    ],
)
def test_a_missing_or_unknown_key_gets_a_401_problem(client, desk, header, detail):
    response = client.get("/api/v1/me", headers=header)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/unauthenticated") and body["status"] == 401 and detail in body["detail"]


def test_a_switched_off_or_expired_key_is_refused(client, desk, make_key):
    off, off_raw = make_key("Off")
    ApiKey.objects.filter(pk=off.pk).update(is_active=False)
    old, old_raw = make_key("Old", expires_at=timezone.now() + timedelta(days=1))
    ApiKey.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "switched off" in client.get("/api/v1/me", headers={"X-API-Key": off_raw}).json()["detail"]
    assert "expired" in client.get("/api/v1/me", headers={"X-API-Key": old_raw}).json()["detail"]


def test_a_key_bound_to_addresses_is_refused_elsewhere(client, desk, make_key):
    _, single = make_key("Single", allowed_ips=["10.1.2.3"])
    _, ranged = make_key("Ranged", allowed_ips=["192.0.2.0/24", "2001:db8::/32"])
    assert client.get("/api/v1/me", headers={"X-API-Key": single}, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/api/v1/me", headers={"X-API-Key": single}, REMOTE_ADDR="10.1.2.4").status_code == 401
    assert client.get("/api/v1/me", headers={"X-API-Key": ranged}, REMOTE_ADDR="192.0.2.200").status_code == 200
    assert client.get("/api/v1/me", headers={"X-API-Key": ranged}, REMOTE_ADDR="2001:db8::7").status_code == 200
    refused = client.get("/api/v1/me", headers={"X-API-Key": ranged}, REMOTE_ADDR="198.51.100.1")
    assert refused.status_code == 401 and "your address" in refused.json()["detail"]


def test_a_bad_allow_list_entry_or_scope_is_refused_by_name(desk):
    with pytest.raises(ValidationError, match="not an IP address"):
        keys.issue_key(name="Bad", created_by=desk.admin, allowed_ips=["10.0.0.0/33"])
    with pytest.raises(ValidationError, match="Unknown scope: tickets:delete"):
        keys.issue_key(name="Bad", created_by=desk.admin, scopes=["tickets:delete"])


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(client, desk, make_key):
    _, raw = make_key("Chatty", rate_limit=3)
    codes = [client.get("/api/v1/me", headers={"X-API-Key": raw}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/v1/me", headers={"X-API-Key": raw})
    assert refused.json()["type"].endswith("/rate-limited") and int(refused["Retry-After"]) >= 1


def test_last_use_is_recorded_with_the_address(client, desk, make_key):
    key, raw = make_key()
    client.get("/api/v1/me", headers={"X-API-Key": raw}, REMOTE_ADDR="192.0.2.9")
    key.refresh_from_db()
    assert key.last_used_ip == "192.0.2.9" and key.last_used_at is not None


def test_a_key_for_a_disabled_agent_is_refused(client, desk, make_key):
    _, raw = make_key("Johns", agent=desk.john)
    desk.john.user.is_active = False
    desk.john.user.save()
    assert "disabled" in client.get("/api/v1/me", headers={"X-API-Key": raw}).json()["detail"]


def test_behind_a_trusted_proxy_the_allow_list_sees_the_client_and_a_forged_header_is_ignored(
    client, desk, make_key, settings
):
    _, raw = make_key("Proxied", allowed_ips=["192.0.2.0/24"])
    # No proxy configured: X-Forwarded-For is the client's own words and changes nothing.
    forged = client.get(
        "/api/v1/me", headers={"X-API-Key": raw, "X-Forwarded-For": "192.0.2.7"}, REMOTE_ADDR="198.51.100.1"
    )
    assert forged.status_code == 401
    settings.TESSERA = {**settings.TESSERA, "TRUSTED_PROXIES": 1}
    proxied = client.get(
        "/api/v1/me", headers={"X-API-Key": raw, "X-Forwarded-For": "192.0.2.7"}, REMOTE_ADDR="10.0.0.2"
    )
    assert proxied.status_code == 200
    outsider = client.get(
        "/api/v1/me",
        headers={"X-API-Key": raw, "X-Forwarded-For": "192.0.2.7, 198.51.100.1"},
        REMOTE_ADDR="10.0.0.2",
    )
    assert outsider.status_code == 401
