"""Each field type checks its answer the way a person filling in the form expects, and hostile
answers (huge, crafted to make a pattern backtrack, items of another list, fields the end user
may not answer) are refused or ignored, never stored and never a crash."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest

from django.core.exceptions import ValidationError

from tessera.customfields.models import Field, FieldType, FieldValue
from tessera.customfields.rendering import LONG_TEXT_LIMIT, TEXT_LIMIT, form_field, ticket_fields_form
from tessera.tickets import services as ticket_services


def _clean(field: Field, value):
    return form_field(field).clean(value)


def _field(forms, kind, **extra) -> Field:
    return Field(form=forms.hardware, key=f"probe_{kind}", label="Probe", type=kind, **extra)


@pytest.mark.parametrize(
    ("kind", "extra", "good", "expected", "bad"),
    [
        (FieldType.SHORT_TEXT, {"min_length": 2, "max_length": 5}, "abc", "abc", "abcdef"),
        (FieldType.LONG_TEXT, {"min_length": 3}, "a\nb c", "a\nb c", "ab"),
        (FieldType.NUMBER, {"min_value": Decimal(1), "max_value": Decimal(10)}, "2.5", Decimal("2.5"), "11"),
        (FieldType.DATE, {}, "2026-02-28", date(2026, 2, 28), "2026-02-30"),
        (FieldType.EMAIL, {}, "ops@example.com", "ops@example.com", "not an address"),
        (FieldType.PHONE, {}, "+1 (555) 010-2030 ext. 12", "+1 (555) 010-2030 ext. 12", "call me maybe"),
    ],
)
def test_each_type_accepts_a_good_answer_and_refuses_a_bad_one(forms, kind, extra, good, expected, bad):
    field = _field(forms, kind, **extra)
    assert _clean(field, good) == expected
    with pytest.raises(ValidationError):
        _clean(field, bad)


def test_a_date_and_time_is_read_in_the_viewers_zone(forms):
    from django.utils import timezone

    field = _field(forms, FieldType.DATETIME)
    with timezone.override("Europe/Berlin"):
        moment = _clean(field, "2026-03-01T09:30")
    assert moment.utcoffset().total_seconds() == 3600
    with pytest.raises(ValidationError):
        _clean(field, "yesterday-ish")


def test_a_required_checkbox_must_be_ticked_and_an_optional_one_answers_no(forms):
    assert _clean(_field(forms, FieldType.CHECKBOX), "") is False
    with pytest.raises(ValidationError):
        _clean(_field(forms, FieldType.CHECKBOX, required=True), "")


def test_a_pattern_must_match_the_whole_answer_and_says_what_is_expected(forms):
    with pytest.raises(ValidationError) as refused:
        _clean(forms.asset, "xAB-1234")
    assert refused.value.messages == ["Two capital letters, a dash and four digits."]
    assert _clean(forms.asset, "AB-1234") == "AB-1234"


def test_a_pattern_that_would_backtrack_for_ever_fails_the_answer_quickly(forms):
    field = _field(forms, FieldType.SHORT_TEXT, pattern=r"(a+)+$")
    started = time.monotonic()
    with pytest.raises(ValidationError) as refused:
        _clean(field, "a" * 40 + "!")
    assert time.monotonic() - started < 2
    assert refused.value.error_list[0].code in ("pattern", "pattern_timeout")


def test_answers_are_bounded_whatever_the_field_allows(forms):
    with pytest.raises(ValidationError):
        _clean(_field(forms, FieldType.SHORT_TEXT, max_length=10**9), "x" * (TEXT_LIMIT + 1))
    with pytest.raises(ValidationError):
        _clean(_field(forms, FieldType.LONG_TEXT), "x" * (LONG_TEXT_LIMIT + 1))
    with pytest.raises(ValidationError):
        _clean(_field(forms, FieldType.NUMBER), "1" * 30)


def test_a_choice_refuses_an_item_of_another_list_and_a_retired_item(forms):
    assert _clean(forms.office, str(forms.berlin.pk)) == forms.berlin
    with pytest.raises(ValidationError):
        _clean(forms.office, str(forms.red.pk))
    forms.lisbon.is_active = False
    forms.lisbon.save()
    with pytest.raises(ValidationError):
        _clean(forms.office, str(forms.lisbon.pk))
    with pytest.raises(ValidationError):
        _clean(forms.seen, [str(forms.noise.pk), str(forms.red.pk)])
    with pytest.raises(ValidationError):
        _clean(forms.office, "1 OR 1=1")


def test_the_end_users_form_asks_only_what_the_end_user_fills_in(desk, forms):
    user_form = ticket_fields_form(desk.outage, "user")
    agent_form = ticket_fields_form(desk.outage, "agent")
    assert list(user_form.fields) == [
        "cf_phone",
        "cf_urgent",
        "cf_asset_tag",
        "cf_office",
        "cf_affected_since",
        "cf_symptoms",
    ]
    assert {"cf_cost", "cf_triage_note"} <= set(agent_form.fields)
    assert list(ticket_fields_form(desk.general, "user").fields) == ["cf_phone", "cf_urgent"]


def test_a_field_the_end_user_may_not_answer_is_dropped_at_intake(desk, forms):
    ticket = ticket_services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject="Smoke",
        message="Rack 4.",
        topic=desk.outage,
        custom_values={"asset_tag": "AB-1234", "cost": "999", "cf_triage_note": "fine", "nonexistent": "x"},
    )
    assert set(FieldValue.objects.filter(ticket=ticket).values_list("field__key", flat=True)) == {"asset_tag", "urgent"}


def test_an_invalid_answer_at_intake_refuses_the_ticket_with_the_reason_by_input(desk, forms):
    from tessera.tickets.models import Ticket

    with pytest.raises(ValidationError) as refused:
        ticket_services.open_ticket(
            desk.ken,
            requester=desk.ken,
            subject="Smoke",
            message="Rack 4.",
            topic=desk.outage,
            custom_values={"asset_tag": "nope", "office": str(forms.red.pk)},
        )
    assert set(refused.value.message_dict) == {"cf_asset_tag", "cf_office"}
    assert not Ticket.objects.filter(subject="Smoke").exists()


def test_mail_and_callers_that_ask_no_fields_are_not_held_to_required_fields(desk, forms):
    ticket = ticket_services.open_ticket(
        desk.ken, requester=desk.ken, subject="Smoke", message="Rack 4.", topic=desk.outage
    )
    assert not FieldValue.objects.filter(ticket=ticket).exists()


def test_defaults_fill_a_new_form(desk, forms):
    forms.office.default = "Lisbon"
    forms.office.save()
    forms.urgent.default = "yes"
    forms.urgent.save()
    form = ticket_fields_form(desk.outage, "user")
    assert form["cf_office"].value() == forms.lisbon.pk
    assert form["cf_urgent"].value() is True
