"""Administrators write, order and test rules in the admin; hostile values stay text."""

from __future__ import annotations

import pytest

from django.urls import reverse

from tessera.rules.models import Rule
from tessera.tickets import services
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import Event, Ticket

ADD = reverse("admin:rules_rule_add")


def rule_form(**overrides):
    data = {
        "name": "Billing mail",
        "order": "10",
        "is_active": "on",
        "match": "all",
        "conditions-TOTAL_FORMS": "1",
        "conditions-INITIAL_FORMS": "0",
        "conditions-MIN_NUM_FORMS": "1",
        "conditions-MAX_NUM_FORMS": "1000",
        "conditions-0-field": "subject",
        "conditions-0-operator": "contains",
        "conditions-0-value": "invoice",
        "actions-TOTAL_FORMS": "1",
        "actions-INITIAL_FORMS": "0",
        "actions-MIN_NUM_FORMS": "0",
        "actions-MAX_NUM_FORMS": "1000",
        "actions-0-kind": "reject",
        "actions-0-text": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def admin_client(client, desk):
    client.force_login(desk.admin)
    return client


def test_an_administrator_saves_a_rule_with_its_conditions_and_actions(admin_client, desk):
    response = admin_client.post(ADD, rule_form(**{"actions-0-kind": "priority", "actions-0-priority": desk.sev_a.pk}))
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = Rule.objects.get()
    assert rule.conditions.get().value == "invoice" and rule.actions.get().priority == desk.sev_a


def test_an_invalid_pattern_is_refused_at_save_with_a_clear_error(admin_client):
    response = admin_client.post(
        ADD, rule_form(**{"conditions-0-operator": "regex", "conditions-0-value": "invoice ("})
    )
    assert response.status_code == 200
    assert "This regular expression is not valid" in response.content.decode()
    assert 'value="invoice ("' in response.content.decode()
    assert not Rule.objects.exists()


def test_an_action_without_its_target_is_refused(admin_client):
    response = admin_client.post(ADD, rule_form(**{"actions-0-kind": "department"}))
    assert response.status_code == 200
    assert "Choose the department this action sets." in response.content.decode()
    assert not Rule.objects.exists()


def test_an_unknown_channel_is_refused(admin_client):
    response = admin_client.post(
        ADD,
        rule_form(**{"conditions-0-field": "channel", "conditions-0-operator": "equals", "conditions-0-value": "fax"}),
    )
    assert "Unknown channel fax" in response.content.decode()


def test_the_list_shows_how_often_and_when_each_rule_matched(admin_client, make_rule, desk):
    make_rule("printer", [("subject", "contains", "printer")], [("priority", desk.sev_a)])
    services.open_ticket(desk.ken, requester=desk.ken, subject="Printer", message="x", topic=desk.general)
    html = admin_client.get(reverse("admin:rules_rule_changelist")).content.decode()
    assert "printer" in html and 'class="field-match_count">1<' in html


def test_the_preview_shows_what_a_rule_would_do_to_a_typed_sample_and_changes_nothing(admin_client, make_rule, desk):
    rule = make_rule(
        "printer",
        [("subject", "contains", "printer"), ("sender_domain", "equals", "example.com")],
        [("priority", desk.sev_a)],
        active=False,
    )
    url = reverse("admin:rules_rule_test", args=[rule.pk])
    response = admin_client.get(url, {"subject": "My PRINTER", "sender": "ken@example.com", "channel": "web"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "The rule matches." in html and "set priority: Sev-A" in html
    rule.refresh_from_db()
    assert rule.match_count == 0 and not Ticket.objects.exists()


def test_the_preview_on_an_existing_ticket_says_which_conditions_fail(admin_client, make_rule, desk, ken_ticket):
    rule = make_rule("mouse", [("subject", "contains", "mouse")], [("priority", desk.sev_a)])
    before = (ken_ticket.priority_id, Event.objects.count())
    html = admin_client.get(
        reverse("admin:rules_rule_test", args=[rule.pk]), {"number": ken_ticket.number}
    ).content.decode()
    assert "The rule does not match." in html and "does not hold" in html
    ken_ticket.refresh_from_db()
    assert (ken_ticket.priority_id, Event.objects.count()) == before


def test_the_preview_refuses_an_unknown_ticket_number(admin_client, make_rule):
    rule = make_rule("r", [("subject", "contains", "x")])
    html = admin_client.get(reverse("admin:rules_rule_test", args=[rule.pk]), {"number": 999}).content.decode()
    assert "There is no ticket #999." in html


def test_agents_without_admin_rights_cannot_open_the_preview(client, make_rule, desk):
    rule = make_rule("r", [("subject", "contains", "x")])
    client.force_login(desk.john.user)
    response = client.get(reverse("admin:rules_rule_test", args=[rule.pk]))
    assert response.status_code in (302, 403)


HOSTILE = '<script>alert("x")</script>'


def test_a_hostile_rule_name_and_value_are_escaped_in_the_admin_and_the_timeline(admin_client, make_rule, desk):
    rule = make_rule(
        HOSTILE, [("subject", "contains", "printer"), ("body", "not_contains", HOSTILE)], [("priority", desk.sev_a)]
    )
    for url in (
        reverse("admin:rules_rule_changelist"),
        reverse("admin:rules_rule_change", args=[rule.pk]),
        reverse("admin:rules_rule_test", args=[rule.pk]) + "?subject=" + HOSTILE,
    ):
        html = admin_client.get(url).content.decode()
        assert HOSTILE not in html and "&lt;script&gt;" in html
    ticket = services.open_ticket(desk.ken, requester=desk.ken, subject="Printer", message="x", topic=desk.general)
    event = Event.objects.get(ticket=ticket, kind="rule_applied")
    assert HOSTILE in event_sentence(event)  # plain text: the page escapes it
    admin_client.force_login(desk.john.user)
    page = admin_client.get(reverse("staff:ticket", args=[ticket.number])).content.decode()
    assert HOSTILE not in page and "Routing rule &lt;script&gt;" in page
