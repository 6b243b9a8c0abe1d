"""An administrator previews a rule as typed in its form, unsaved, on a sample ticket."""

from __future__ import annotations

import pytest

from django.urls import reverse

from tessera.rules.models import Condition, Rule
from tessera.tickets.models import Event, Ticket

from .test_admin import rule_form

PREVIEW = reverse("admin:rules_rule_preview")


@pytest.fixture
def admin_client(client, desk):
    client.force_login(desk.admin)
    return client


def sample(**fields):
    return {"sample-submitted": "1", **{f"sample-{k}": v for k, v in fields.items()}}


def edited(rule, **overrides):
    """The change form of `rule` as the browser posts it, with `overrides` typed over it."""
    condition = rule.conditions.get()
    data = rule_form(
        **{
            "name": rule.name,
            "conditions-INITIAL_FORMS": "1",
            "conditions-0-id": str(condition.pk),
            "conditions-0-rule": str(rule.pk),
            "conditions-0-field": condition.field,
            "conditions-0-operator": condition.operator,
            "conditions-0-value": condition.value,
            "actions-TOTAL_FORMS": "0",
        }
    )
    data.update(overrides)
    return data


def test_previewing_an_edited_condition_answers_with_the_new_value_and_saves_nothing(admin_client, make_rule, desk):
    rule = make_rule("printer", [("subject", "contains", "printer")], [("priority", desk.sev_a)], active=False)
    url = f"{PREVIEW}?rule={rule.pk}"
    data = {**edited(rule, **{"conditions-0-value": "scanner"}), **sample(subject="My scanner jams", channel="web")}
    response = admin_client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "The rule matches." in html and "holds: subject contains “scanner”" in html
    assert "Nothing is saved" in html
    assert Condition.objects.get(rule=rule).value == "printer"
    rule.refresh_from_db()
    assert rule.match_count == 0 and not Ticket.objects.exists() and not Event.objects.exists()


def test_previewing_the_saved_value_on_the_same_sample_does_not_match(admin_client, make_rule):
    rule = make_rule("printer", [("subject", "contains", "printer")])
    data = {**edited(rule), **sample(subject="My scanner jams", channel="web")}
    html = admin_client.post(f"{PREVIEW}?rule={rule.pk}", data).content.decode()
    assert "The rule does not match." in html and "does not hold: subject contains “printer”" in html


def test_a_new_unsaved_rule_can_be_previewed_with_its_actions(admin_client, desk):
    data = {
        **rule_form(**{"actions-0-kind": "priority", "actions-0-priority": desk.sev_a.pk}),
        **sample(subject="Invoice 42", channel="web"),
    }
    html = admin_client.post(PREVIEW, data).content.decode()
    assert "The rule matches." in html and "set priority: Sev-A" in html
    assert not Rule.objects.exists()


def test_an_invalid_pattern_in_the_unsaved_form_is_shown_and_nothing_is_tried(admin_client, make_rule):
    rule = make_rule("printer", [("subject", "contains", "printer")])
    data = {
        **edited(rule, **{"conditions-0-operator": "regex", "conditions-0-value": "printer ("}),
        **sample(subject="printer (", channel="web"),
    }
    html = admin_client.post(f"{PREVIEW}?rule={rule.pk}", data).content.decode()
    assert "This regular expression is not valid" in html
    assert "The rule matches." not in html and "The rule does not match." not in html
    assert Condition.objects.get(rule=rule).operator == "contains"


def test_the_preview_carries_the_typed_rule_to_the_next_sample(admin_client, make_rule):
    rule = make_rule("printer", [("subject", "contains", "printer")])
    html = admin_client.post(f"{PREVIEW}?rule={rule.pk}", edited(rule, **{"conditions-0-value": "sc<a>"})).content
    assert b'name="conditions-0-value" value="sc&lt;a&gt;"' in html


def test_the_change_form_offers_the_preview_button(admin_client, make_rule):
    rule = make_rule("printer", [("subject", "contains", "printer")])
    html = admin_client.get(reverse("admin:rules_rule_change", args=[rule.pk])).content.decode()
    assert f'formaction="{PREVIEW}?rule={rule.pk}"' in html


def test_agents_without_admin_rights_cannot_preview(client, make_rule, desk):
    rule = make_rule("r", [("subject", "contains", "x")])
    client.force_login(desk.john.user)
    response = client.post(f"{PREVIEW}?rule={rule.pk}", {**edited(rule), **sample(subject="x")})
    assert response.status_code in (302, 403)
    assert b"The rule matches." not in response.content


def test_a_forged_rule_id_is_not_found(admin_client):
    assert admin_client.post(f"{PREVIEW}?rule=999999", rule_form()).status_code == 404
    assert admin_client.post(f"{PREVIEW}?rule=abc", rule_form()).status_code == 404
