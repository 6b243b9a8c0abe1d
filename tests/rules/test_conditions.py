"""Every condition field and operator, all/any, case-insensitive comparison, and rule order."""

from __future__ import annotations

import pytest

from tessera.rules import engine
from tessera.tickets import services
from tessera.tickets.models import Event, EventKind, Source

SAMPLE = engine.Sample(
    channel=Source.EMAIL,
    sender="Nora@Customer.Example",
    recipients=("Billing@Example.com",),
    subject="Invoice 42 is WRONG",
    body="Hello,\nthe invoice total is off by 10 EUR.",
    topic="General question",
    organization="Acme Corp",
    priority="Sev-C — Normal",
)


def matches(make_rule, field, operator, value, sample=SAMPLE):
    make_rule("r", [(field, operator, value)])
    return bool(engine.evaluate(sample, engine.load()).applied)


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        ("channel", "equals", "email", True),
        ("channel", "equals", "portal", False),
        ("channel", "not_equals", "web", True),
        ("channel", "one_of", "portal, email", True),
        ("channel", "one_of", "agent, api", False),
        ("sender", "equals", "nora@customer.example", True),
        ("sender", "not_equals", "NORA@customer.example", False),
        ("sender", "starts_with", "nora@", True),
        ("sender", "ends_with", "@customer.example", True),
        ("sender", "contains", "other", False),
        ("sender", "not_contains", "other", True),
        ("sender_domain", "equals", "customer.example", True),
        ("sender_domain", "one_of", "example.org, CUSTOMER.example", True),
        ("sender_domain", "ends_with", ".org", False),
        ("recipient", "equals", "billing@example.com", True),
        ("recipient", "not_equals", "billing@example.com", False),
        ("recipient", "starts_with", "support@", False),
        ("subject", "contains", "invoice", True),
        ("subject", "not_contains", "invoice", False),
        ("subject", "starts_with", "INVOICE", True),
        ("subject", "ends_with", "wrong", True),
        ("subject", "regex", r"invoice\s+\d+", True),
        ("subject", "regex", r"^refund", False),
        ("body", "contains", "total is off", True),
        ("body", "regex", r"\d+ eur", True),
        ("body", "not_contains", "refund", True),
        ("topic", "equals", "general question", True),
        ("topic", "not_equals", "General Question", False),
        ("organization", "equals", "ACME corp", True),
        ("organization", "one_of", "Globex, Initech", False),
        ("priority", "starts_with", "sev-c", True),
        ("priority", "equals", "Sev-A — Emergency", False),
    ],
)
def test_each_field_and_operator_compares_without_regard_to_case(make_rule, field, operator, value, expected):
    assert matches(make_rule, field, operator, value) is expected


def test_a_ticket_without_recipients_matches_only_negative_recipient_conditions(make_rule):
    plain = engine.Sample(channel=Source.WEB, sender="a@b.example")
    make_rule("is", [("recipient", "equals", "billing@example.com")])
    make_rule("is not", [("recipient", "not_equals", "billing@example.com")])
    assert [a.name for a in engine.evaluate(plain, engine.load()).applied] == ["is not"]


def test_match_all_needs_every_condition_and_match_any_needs_one(make_rule):
    make_rule("all", [("subject", "contains", "invoice"), ("sender_domain", "equals", "elsewhere.example")])
    make_rule(
        "any", [("subject", "contains", "invoice"), ("sender_domain", "equals", "elsewhere.example")], match="any"
    )
    assert [a.name for a in engine.evaluate(SAMPLE, engine.load()).applied] == ["any"]


def test_rules_run_in_their_order_and_a_later_rule_overrides_an_earlier_one(make_rule, desk):
    make_rule("second", [("subject", "contains", "invoice")], [("priority", desk.sev_a)], order=20)
    make_rule("first", [("subject", "contains", "invoice")], [("priority", desk.sev_d)], order=10)
    plan = engine.evaluate(SAMPLE, engine.load())
    assert [a.name for a in plan.applied] == ["first", "second"]
    assert plan.priority == desk.sev_a


def test_stop_processing_keeps_later_rules_from_running(make_rule, desk):
    make_rule("first", [("subject", "contains", "invoice")], [("priority", desk.sev_d)], order=10, stop=True)
    make_rule("second", [("subject", "contains", "invoice")], [("priority", desk.sev_a)], order=20)
    plan = engine.evaluate(SAMPLE, engine.load())
    assert [a.name for a in plan.applied] == ["first"]
    assert plan.priority == desk.sev_d


def test_inactive_rules_do_not_run(make_rule, desk):
    make_rule("off", [("subject", "contains", "invoice")], [("priority", desk.sev_a)], active=False)
    assert not engine.evaluate(SAMPLE, engine.load()).applied


def test_rules_run_on_a_ticket_opened_by_the_service_with_its_real_facts(make_rule, desk):
    make_rule(
        "ken's printer",
        [
            ("channel", "equals", "portal"),
            ("sender", "equals", "ken@example.com"),
            ("topic", "equals", "general question"),
        ],
        [("priority", desk.sev_a)],
    )
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="Page two.", topic=desk.general
    )
    assert ticket.priority == desk.sev_a
    assert Event.objects.filter(ticket=ticket, kind=EventKind.RULE_APPLIED, after="ken's printer").exists()


def test_a_changed_rule_is_seen_by_the_next_ticket_without_restarting(make_rule, desk):
    rule = make_rule("urgent", [("subject", "contains", "urgent")], [("priority", desk.sev_a)])
    first = services.open_ticket(desk.ken, requester=desk.ken, subject="urgent", message="x", topic=desk.general)
    condition = rule.conditions.get()
    condition.value = "critical"
    condition.save()
    second = services.open_ticket(desk.ken, requester=desk.ken, subject="urgent", message="x", topic=desk.general)
    assert first.priority == desk.sev_a
    assert second.priority == desk.general.default_priority
