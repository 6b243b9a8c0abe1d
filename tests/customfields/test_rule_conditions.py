"""Routing rules look at the answers to custom fields given with a new ticket, before they are
saved: a rule can route Berlin's outages to a team, or refuse an asset tag, and the admin's
picker, test page and preview know the fields."""

from __future__ import annotations

import pytest

from django.core.exceptions import ValidationError
from django.urls import reverse

from tessera.rules import engine
from tessera.rules.models import Action, ActionKind, Condition, Rule
from tessera.tickets import services as ticket_services
from tessera.tickets.models import Ticket
from tests.rules.test_admin import rule_form

pytestmark = pytest.mark.django_db


def _rule(name, key, operator, value, *, kind=ActionKind.PRIORITY, target=None, text=""):
    rule = Rule.objects.create(name=name)
    Condition.objects.create(rule=rule, field="custom", field_key=key, operator=operator, value=value)
    if kind == ActionKind.PRIORITY:
        Action.objects.create(rule=rule, kind=kind, priority=target)
    else:
        Action.objects.create(rule=rule, kind=kind, text=text)
    return rule


def _open(desk, **values):
    values.setdefault("asset_tag", "AB-1234")
    return ticket_services.open_ticket(
        desk.ken, requester=desk.ken, subject="Rack 4", message="Smoke.", topic=desk.outage, custom_values=values
    )


def test_a_rule_on_a_choice_field_acts_on_the_answer_given_with_the_ticket(desk, forms):
    _rule("Berlin is urgent", "office", "equals", "berlin", target=desk.sev_a)
    berlin = _open(desk, office=forms.berlin.pk)
    lisbon = _open(desk, office=forms.lisbon.pk)
    unanswered = _open(desk)
    assert berlin.priority == desk.sev_a
    assert lisbon.priority == desk.sev_b and unanswered.priority == desk.sev_b  # the topic's default


def test_a_multiple_choice_matches_when_any_chosen_item_does(desk, forms):
    _rule("Smoke", "symptoms", "equals", "Smoke", target=desk.sev_a)
    assert _open(desk, symptoms=[forms.noise.pk, forms.smoke.pk]).priority == desk.sev_a
    assert _open(desk, symptoms=[forms.noise.pk]).priority == desk.sev_b


def test_text_checkbox_and_pattern_conditions(desk, forms):
    _rule("Lab assets", "asset_tag", "regex", r"^lb-\d+$", target=desk.sev_d)
    _rule("Stopped work", "urgent", "equals", "yes", target=desk.sev_a)
    assert _open(desk, asset_tag="LB-0042").priority == desk.sev_d
    assert _open(desk, asset_tag="AB-0042", urgent=True).priority == desk.sev_a
    assert _open(desk, asset_tag="AB-0042", urgent=False).priority == desk.sev_b


def test_a_rule_can_refuse_a_ticket_by_its_answer_and_nothing_is_kept(desk, forms):
    _rule(
        "No test tags", "asset_tag", "starts_with", "zz", kind=ActionKind.REJECT, text="Test assets are not supported."
    )
    with pytest.raises(ValidationError, match="Test assets are not supported"):
        _open(desk, asset_tag="ZZ-0001")
    assert not Ticket.objects.exists()


def test_a_condition_on_an_unanswered_or_unknown_field_does_not_match_and_its_negation_does(desk, forms):
    _rule("Not Berlin", "office", "not_equals", "Berlin", target=desk.sev_d)
    _rule("Ghost", "no_such_field", "equals", "x", target=desk.sev_a)
    assert _open(desk).priority == desk.sev_d


def test_mail_and_other_channels_without_answers_run_the_rules_without_them(desk, forms):
    _rule("Berlin", "office", "equals", "Berlin", target=desk.sev_a)
    ticket = ticket_services.open_ticket(
        desk.ken, requester=desk.ken, subject="Hi", message="x", topic=desk.general, custom_values=None
    )
    assert ticket.priority == desk.sev_c


def test_the_engine_compares_custom_answers_case_insensitively():
    sample = engine.Sample(channel="web", custom={"office": ("Berlin",), "symptoms": ("Noise", "Smoke")})
    rule = Rule(pk=1, name="r")
    condition = Condition(pk=1, field="custom", field_key="symptoms", operator="one_of", value="smoke, fire")
    compiled = engine.compile_rule(rule, [condition], [])
    result = engine.check(compiled, sample, every=True)
    assert result.matched
    assert result.conditions == [("custom field symptoms is one of (comma-separated) “smoke, fire”", True)]


# ---------------------------------------------------------------------------- the admin


@pytest.fixture
def admin_client(client, desk):
    client.force_login(desk.admin)
    return client


def test_the_condition_picker_offers_the_ticket_fields_and_requires_one_for_custom(admin_client, desk, forms):
    page = admin_client.get(reverse("admin:rules_rule_add")).content.decode()
    assert '<option value="office">Office (office)</option>' in page
    assert 'value="badge"' not in page  # a user's field, not a ticket's
    data = rule_form(**{"conditions-0-field": "custom", "conditions-0-value": "Berlin"})
    response = admin_client.post(reverse("admin:rules_rule_add"), data)
    assert response.status_code == 200
    assert "Choose the custom field this condition looks at." in response.content.decode()
    data["conditions-0-field_key"] = "office"
    data["conditions-0-operator"] = "equals"
    response = admin_client.post(reverse("admin:rules_rule_add"), data)
    assert response.status_code == 302
    assert Condition.objects.get().field_key == "office"


def test_the_test_page_tries_custom_answers_typed_or_stored_on_a_ticket(admin_client, desk, forms):
    rule = _rule("Berlin", "office", "equals", "Berlin", target=desk.sev_a)
    url = reverse("admin:rules_rule_test", args=[rule.pk])
    typed = admin_client.get(url, {"subject": "x", "custom": "office = Berlin\nsymptoms = Noise"})
    assert "The rule matches" in typed.content.decode() or "matches" in typed.content.decode()
    assert typed.context["result"].matched
    lisbon = _open(desk, office=forms.lisbon.pk)
    stored = admin_client.get(url, {"number": lisbon.number})
    assert stored.context["result"].matched is False
    berlin = _open(desk, office=forms.berlin.pk)
    assert admin_client.get(url, {"number": berlin.number}).context["result"].matched


def test_the_preview_tries_an_unsaved_custom_condition(admin_client, desk, forms):
    data = rule_form(
        **{
            "conditions-0-field": "custom",
            "conditions-0-field_key": "office",
            "conditions-0-operator": "equals",
            "conditions-0-value": "Lisbon",
            "sample-submitted": "1",
            "sample-subject": "x",
            "sample-custom": "office = lisbon",
        }
    )
    response = admin_client.post(reverse("admin:rules_rule_preview"), data)
    assert response.status_code == 200
    assert response.context["errors"] == []
    assert response.context["result"].matched
    assert not Rule.objects.exists()
