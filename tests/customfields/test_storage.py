"""Answers are stored typed, one row per field and owner (per item for multiple choice), and
survive renaming, reordering and retiring their field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from django.db import IntegrityError, transaction

from tessera.customfields import selectors, services
from tessera.customfields.models import FieldValue
from tessera.tickets import services as ticket_services


def _open_outage(desk, **values):
    return ticket_services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject="Server is smoking",
        message="Rack 4.",
        topic=desk.outage,
        custom_values=values,
    )


def test_answers_given_at_intake_are_stored_in_their_typed_columns(desk, forms):
    ticket = _open_outage(
        desk,
        asset_tag="AB-1234",
        office=forms.lisbon.pk,
        affected_since="2026-11-30",
        symptoms=[forms.noise.pk, forms.smoke.pk],
        phone="+49 30 1234567",
        urgent=True,
    )
    rows = FieldValue.objects.filter(ticket=ticket)
    assert rows.get(field=forms.asset).text == "AB-1234"
    assert rows.get(field=forms.office).item == forms.lisbon
    assert rows.get(field=forms.since).date == date(2026, 11, 30)
    assert set(rows.filter(field=forms.seen).values_list("item__label", flat=True)) == {"Noise", "Smoke"}
    assert rows.get(field=forms.urgent).flag is True
    assert selectors.values_for(ticket) == {
        "asset_tag": "AB-1234",
        "office": "Lisbon",
        "affected_since": "2026-11-30",
        "symptoms": "Noise, Smoke",
        "phone": "+49 30 1234567",
        "urgent": "Yes",
    }


def test_a_choice_filter_finds_tickets_through_the_item_index(desk, forms):
    lisbon = _open_outage(desk, asset_tag="AB-0001", office=forms.lisbon.pk)
    _open_outage(desk, asset_tag="AB-0002", office=forms.berlin.pk)
    from tessera.tickets.models import Ticket

    found = Ticket.objects.filter(pk__in=FieldValue.objects.filter(item=forms.lisbon).values("ticket_id"))
    assert list(found) == [lisbon]


def test_renaming_reordering_and_retiring_a_field_keeps_its_answers(desk, forms, django_assert_max_num_queries):
    ticket = _open_outage(desk, asset_tag="AB-1234", office=forms.berlin.pk)
    forms.asset.label = "Inventory number"
    forms.asset.order = 9
    forms.asset.save()
    from django.utils import timezone

    forms.office.retired_at = timezone.now()
    forms.office.save()
    forms.berlin.label = "Berlin (Mitte)"
    forms.berlin.is_active = False
    forms.berlin.save()
    selectors.ticket_panel(ticket)  # the forms are read once per process (process_memo)
    with django_assert_max_num_queries(1):
        shown = {s.field.key: s for s in selectors.ticket_panel(ticket)}
    assert shown["asset_tag"].field.label == "Inventory number"
    assert shown["asset_tag"].text == "AB-1234"
    assert shown["office"].retired and shown["office"].text == "Berlin (Mitte)"
    assert selectors.values_for(ticket)["office"] == "Berlin (Mitte)"


def test_a_retired_field_is_no_longer_asked(desk, forms):
    from django.utils import timezone

    from tessera.customfields.rendering import ticket_fields_form

    forms.since.retired_at = timezone.now()
    forms.since.save()
    form = ticket_fields_form(desk.outage, "user")
    assert "cf_affected_since" not in form.fields
    assert "cf_asset_tag" in form.fields


def test_an_answer_has_exactly_one_owner(desk, forms, ken_ticket):
    with pytest.raises(IntegrityError), transaction.atomic():
        FieldValue.objects.create(field=forms.phone, ticket=ken_ticket, user=desk.ken, text="1")
    with pytest.raises(IntegrityError), transaction.atomic():
        FieldValue.objects.create(field=forms.phone, text="1")


def test_a_single_answer_is_one_row_per_field_and_ticket(desk, forms, ken_ticket):
    FieldValue.objects.create(field=forms.phone, ticket=ken_ticket, text="1")
    with pytest.raises(IntegrityError), transaction.atomic():
        FieldValue.objects.create(field=forms.phone, ticket=ken_ticket, text="2")


def test_people_and_organisations_keep_their_own_answers_with_an_audit_entry(desk, forms):
    from tessera.accounts.models import Organization
    from tessera.audit.models import AuditEntry

    acme = Organization.objects.create(name="Acme")
    changes = services.save_values(desk.john.user, desk.ken, {"cf_badge": Decimal("42")})
    assert [c.after for c in changes] == ["42"]
    services.save_values(desk.john.user, acme, {"cf_contract_until": date(2027, 3, 31)})
    assert FieldValue.objects.get(user=desk.ken).number == Decimal("42")
    assert FieldValue.objects.get(organization=acme).date == date(2027, 3, 31)
    entry = AuditEntry.objects.filter(object_type="accounts.user", object_id=str(desk.ken.pk)).latest("id")
    assert entry.before == {"badge": ""} and entry.after == {"badge": "42"}


def test_variables_for_the_requester_leave_out_agents_only_answers(desk, forms):
    ticket = _open_outage(desk, asset_tag="AB-1234")
    services.save_values(desk.jane.user, ticket, {"cf_cost": Decimal("120.50")})
    assert selectors.values_for(ticket)["cost"] == "120.5"
    assert "cost" not in selectors.values_for(ticket, for_end_user=True)
    assert selectors.values_for(ticket, for_end_user=True)["asset_tag"] == "AB-1234"
