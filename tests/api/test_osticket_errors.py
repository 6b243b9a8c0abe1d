"""Refusals, with osTicket's exact status codes and bytes (osticket-live.md §2.2), and the keys:
missing, unknown, switched off, expired, without the scope, used from the wrong address, and
over its rate limit. Also: no cookie on any answer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from django.utils import timezone

from tessera.api.models import ApiKey, Scope
from tessera.tickets.models import Ticket

from .osticket_client import MINIMAL, number, ost_fixture, ost_key_fixture  # noqa: F401  (fixtures)


def test_no_key_is_refused_with_osticket_words(ost, desk):
    response = ost.json(MINIMAL, key=None)
    assert (response.status_code, response.content) == (401, b"Valid API key required")
    assert not Ticket.objects.exists()


def test_an_unknown_key_reads_as_no_key(ost, desk):
    response = ost.json(MINIMAL, key="tsk_not-a-key")
    assert (response.status_code, response.content) == (401, b"Valid API key required")


def test_a_key_from_another_address_reads_as_an_unknown_key(ost, make_key, desk):
    raw = make_key("Bound", scopes=[Scope.OSTICKET], allowed_ips=["10.0.0.0/8"])[1]
    response = ost.json(MINIMAL, key=raw)
    assert (response.status_code, response.content) == (401, b"Valid API key required")
    assert number(ost.json(MINIMAL, key=raw, REMOTE_ADDR="10.1.2.3"))


def test_a_switched_off_key(ost, desk):
    ApiKey.objects.filter(name="osTicket bridge").update(is_active=False)
    response = ost.json(MINIMAL)
    assert (response.status_code, response.content) == (401, b"API key not found/active or source IP not authorized")


def test_an_expired_key_is_inactive(ost, desk):
    ApiKey.objects.filter(name="osTicket bridge").update(expires_at=timezone.now() - timedelta(minutes=1))
    response = ost.json(MINIMAL)
    assert (response.status_code, response.content) == (401, b"API key not found/active or source IP not authorized")


def test_a_key_without_the_osticket_scope_is_not_authorised(ost, make_key, desk):
    raw = make_key("REST only", scopes=[Scope.TICKETS_WRITE])[1]
    response = ost.json(MINIMAL, key=raw)
    assert (response.status_code, response.content) == (401, b"API key not authorized")
    assert not Ticket.objects.exists()


def test_the_admin_scope_covers_osticket(ost, make_key, desk):
    assert number(ost.json(MINIMAL, key=make_key("Admin", scopes=[Scope.ADMIN])[1]))


def test_the_key_is_not_read_from_a_bearer_header(ost, desk):
    response = ost.json(MINIMAL, key=None, headers={"Authorization": f"Bearer {ost.key}"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body", [b'{"name": "x",}', b"", b"<ticket/>", b"[" * 100_000, b'{"n": 1' + b"0" * 5000 + b"}"]
)
def test_malformed_json_and_an_empty_body(ost, desk, body):
    response = ost.json(body)
    assert (response.status_code, response.content) == (400, b"Syntax error, malformed JSON")
    assert not Ticket.objects.exists()


def test_a_bad_body_without_a_key_is_refused_for_the_key_first(ost, desk):
    assert ost.json(b"not json", key=None).status_code == 401


@pytest.mark.parametrize(
    "path", ["/api/tickets.yaml", "/api/tickets.txt", "/api/http.php/tickets.yaml", "/api/http.php/tasks/cron"]
)
def test_another_extension_or_path_is_not_supported(ost, desk, path):
    response = ost.post(path, MINIMAL)
    assert (response.status_code, response.content) == (400, b"URL not supported")


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_another_method_is_not_supported(client, ost_key, desk, method):
    response = getattr(client, method)("/api/tickets.json", headers={"X-API-Key": ost_key})
    assert (response.status_code, response.content) == (400, b"URL not supported")


@pytest.mark.parametrize(
    ("change", "body"),
    [
        ({"email": None}, b"Unable to create new ticket :user\nIncomplete client information"),
        ({"email": "not-an-email"}, b"Unable to create new ticket :user\nIncomplete client information"),
        ({"name": None}, b"Unable to create new ticket :user\nIncomplete client information"),
        ({"subject": None}, b"Unable to create new ticket :subject\nIssue Summary is a required field"),
        ({"message": None}, b"Unable to create new ticket :message\nIssue Details is a required field"),
        (
            {"message": "data:text/html,<p> </p>"},
            b"Unable to create new ticket :message\nIssue Details is a required field",
        ),
    ],
)
def test_validation_errors_answer_400_in_osticket_format(ost, desk, change, body):
    sent = {k: v for k, v in {**MINIMAL, **change}.items() if v is not None}
    response = ost.json(sent)
    assert (response.status_code, response.content) == (400, body)
    assert not Ticket.objects.exists()


def test_a_json_array_lists_every_missing_field(ost, desk):
    response = ost.json([1, 2, 3])
    assert response.status_code == 400
    assert response.content == (
        b"Unable to create new ticket :user\nIncomplete client information\n"
        b"subject\nIssue Summary is a required field\nmessage\nIssue Details is a required field"
    )


def test_a_subject_over_the_limit_is_a_validation_error_not_a_500(ost, desk):
    response = ost.json({**MINIMAL, "subject": "x" * 5000})
    assert response.status_code == 400 and response.content.startswith(b"Unable to create new ticket :subject\n")


def test_a_disabled_requester_is_refused(ost, desk):
    desk.ken.is_active = False
    desk.ken.save()
    response = ost.json({**MINIMAL, "email": "ken@example.com"})
    assert response.status_code == 400 and response.content.startswith(b"Unable to create new ticket :user\n")


def test_the_address_is_checked_without_dns(ost, desk, monkeypatch):
    import socket

    def no_dns(*args, **kwargs):
        raise AssertionError("DNS was asked")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(socket, "gethostbyname", no_dns)
    assert number(ost.json({**MINIMAL, "email": "someone@no-such-domain.invalid"}))


def test_the_rate_limit_answers_429_with_retry_after(ost, desk):
    ApiKey.objects.filter(name="osTicket bridge").update(rate_limit=2)
    number(ost.json(MINIMAL))
    number(ost.json(MINIMAL))
    response = ost.json(MINIMAL)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert Ticket.objects.count() == 2


def test_no_answer_sets_a_cookie(ost, desk):
    answers = [ost.json(MINIMAL), ost.json(b"{"), ost.json(MINIMAL, key=None), ost.post("/api/tickets.yaml")]
    for response in answers:
        assert not response.cookies, response.cookies
        assert "Set-Cookie" not in response


def test_a_signed_in_browser_gets_no_access_and_no_cookie(client, desk):
    client.force_login(desk.admin)
    response = client.post("/api/tickets.json", MINIMAL, content_type="application/json")
    assert (response.status_code, response.content) == (401, b"Valid API key required")
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    assert not Ticket.objects.exists()


def test_a_routing_rule_that_rejects_answers_403_and_keeps_the_refusal(ost, desk):
    from tessera.rules.models import Action, ActionKind, Condition, Refusal, Rule

    rule = Rule.objects.create(name="no spam", match="all", order=0)
    Condition.objects.create(rule=rule, field="subject", operator="contains", value="cheap pills")
    Action.objects.create(rule=rule, kind=ActionKind.REJECT, text="We do not take advertising.")
    response = ost.json({**MINIMAL, "subject": "Cheap pills"})
    assert response.status_code == 403
    assert response.content.startswith(b"Unable to create new ticket :Ticket denied: mini@example.net\n\n")
    assert b"We do not take advertising." in response.content
    assert not Ticket.objects.exists()
    refusal = Refusal.objects.get()
    assert (refusal.channel, refusal.sender, refusal.subject) == ("api", "mini@example.net", "Cheap pills")
