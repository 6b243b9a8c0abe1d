"""Administrators manage lists, forms and fields in the admin: a pattern that does not compile,
contradicting limits or a default the field would refuse are turned back at save; a field with
answers is retired, not deleted, and keeps its key; the demo desk comes with a Hardware form."""

from __future__ import annotations

from io import StringIO

import pytest

from django.core.management import call_command
from django.urls import reverse

from tessera.customfields.admin import FieldForm
from tessera.customfields.models import Field, FieldType, FieldValue, Form
from tessera.tickets import services as ticket_services


def _form(forms, **data) -> FieldForm:
    base = {"key": "probe", "label": "Probe", "type": FieldType.SHORT_TEXT, "audience": "user", "order": 0}
    form = FieldForm(data={**base, **data}, instance=Field(form=forms.hardware))
    form.is_valid()
    return form


def test_a_pattern_that_does_not_compile_is_refused_at_save(forms):
    assert "pattern" in _form(forms, pattern="([A-Z").errors
    assert _form(forms, pattern="[A-Z]{2}").is_valid()


def test_contradicting_limits_and_misplaced_settings_are_refused(forms):
    assert "max_length" in _form(forms, min_length=5, max_length=2).errors
    assert "max_value" in _form(forms, type=FieldType.NUMBER, min_value=5, max_value=2).errors
    assert "min_value" in _form(forms, min_value=1).errors  # a range on a text field
    assert "choice_list" in _form(forms, type=FieldType.CHOICE).errors
    assert "pattern" in _form(forms, type=FieldType.NUMBER, pattern="1").errors


def test_a_default_must_be_an_answer_the_field_accepts(forms):
    assert "default" in _form(forms, pattern=r"\d+", default="abc").errors
    assert "default" in _form(forms, type=FieldType.LIST, choice_list=forms.offices.pk, default="Paris").errors
    assert _form(forms, type=FieldType.LIST, choice_list=forms.offices.pk, default="Lisbon").is_valid()


def test_a_field_with_answers_keeps_its_key_and_type(desk, forms):
    ticket_services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject="x",
        message="y",
        topic=desk.outage,
        custom_values={"asset_tag": "AB-1234"},
    )
    form = FieldForm(
        data={"key": "inventory", "label": "Inventory", "type": FieldType.LONG_TEXT, "audience": "user", "order": 1},
        instance=forms.asset,
    )
    assert not form.is_valid()
    assert set(form.errors) == {"key", "type"}


def test_a_choice_field_with_answers_keeps_its_list_but_one_without_may_change_it(desk, forms):
    data = {"key": "office", "label": "Office", "type": FieldType.LIST, "audience": "user", "order": 2}
    unanswered = FieldForm(data={**data, "choice_list": forms.other_list.pk}, instance=Field.objects.get(key="office"))
    assert unanswered.is_valid()
    ticket_services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject="x",
        message="y",
        topic=desk.outage,
        custom_values={"asset_tag": "AB-1234", "office": forms.berlin.pk},
    )
    # Its answers name the old list's items: a queue filter on one of them must name one field.
    form = FieldForm(data={**data, "choice_list": forms.other_list.pk}, instance=Field.objects.get(key="office"))
    assert not form.is_valid()
    assert set(form.errors) == {"choice_list"}
    assert FieldForm(
        data={**data, "choice_list": forms.offices.pk}, instance=Field.objects.get(key="office")
    ).is_valid()


def test_deleting_a_field_with_answers_is_refused_in_the_admin_and_retiring_keeps_them(client, desk, forms):
    ticket = ticket_services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject="x",
        message="y",
        topic=desk.outage,
        custom_values={"asset_tag": "AB-1234"},
    )
    client.force_login(desk.admin)
    page = client.post(reverse("admin:customfields_field_delete", args=[forms.asset.pk]), {"post": "yes"})
    assert page.status_code == 200 and "protected" in page.content.decode().lower()
    assert Field.objects.filter(pk=forms.asset.pk).exists()
    changelist = reverse("admin:customfields_field_changelist")
    client.post(changelist, {"action": "retire", "_selected_action": [forms.asset.pk]})
    forms.asset.refresh_from_db()
    assert forms.asset.retired_at is not None
    assert FieldValue.objects.get(ticket=ticket, field=forms.asset).text == "AB-1234"


@pytest.mark.parametrize("page", ["customfields/form/add/", "customfields/choicelist/add/", "customfields/field/"])
def test_the_admin_pages_open_for_administrators(client, desk, forms, page):
    client.force_login(desk.admin)
    assert client.get(f"/admin/{page}").status_code == 200
    assert client.get(reverse("admin:customfields_form_change", args=[forms.hardware.pk])).status_code == 200


def test_the_demo_desk_asks_hardware_topics_for_an_asset_tag(db):
    from tessera.accounts.models import Department
    from tessera.tickets.models import HelpTopic

    support = Department.objects.create(name="Sysadmin")
    HelpTopic.objects.create(name="Server or network outage", department=support)
    call_command("seed_demo_forms", stdout=StringIO())
    call_command("seed_demo_forms", stdout=StringIO())  # again: nothing twice
    hardware = Form.objects.get(title="Hardware")
    assert [f.key for f in hardware.fields.order_by("order")] == [
        "asset_tag",
        "office",
        "affected_since",
        "replacement_cost",
    ]
    assert list(hardware.topics.values_list("name", flat=True)) == ["Server or network outage"]
