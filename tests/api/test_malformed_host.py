"""A request Django refuses before any view (a Host header that is no host name) still gets the
API's own answer under /api/v1/: a problem document, as the OpenAPI document promises (found by
schemathesis sending `Host: Ahz`'G_F*3?`). The site's pages keep their HTML page."""

from __future__ import annotations

import pytest

HOSTILE_HOSTS = ["Ahz`'G_F*3?", "evil.example/<script>", "a b", "[::1"]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_the_api_answers_a_malformed_host_with_a_problem_document(client, desk, settings, host):
    settings.ALLOWED_HOSTS = ["*"]
    response = client.get("/api/v1/users", HTTP_HOST=host)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/bad-request") and body["status"] == 400 and "Host" in body["detail"]
    assert host not in response.content.decode()


def test_a_host_not_allowed_is_a_problem_document_too(client, desk, settings):
    settings.ALLOWED_HOSTS = ["desk.example"]
    response = client.post("/api/v1/tickets", {}, content_type="application/json", HTTP_HOST="attacker.example")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"


def test_the_sites_pages_keep_their_own_bad_request_page(client, desk, settings):
    settings.ALLOWED_HOSTS = ["*"]
    response = client.get("/", HTTP_HOST="Ahz`'G_F*3?")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
