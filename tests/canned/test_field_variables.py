"""Custom field answers in canned responses: %{ticket.field.<key>} names a ticket field, and a
customer never reads an agents-only answer through one."""

from __future__ import annotations

import pytest

from django.core.exceptions import ValidationError

from tessera.canned import services
from tessera.tickets import services as ticket_services
from tests.customfields.conftest import forms  # noqa: F401  (the desk's custom forms)


@pytest.fixture
def outage_ticket(desk, forms):  # noqa: F811
    return ticket_services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject="Server smokes",
        message="It smells.",
        topic=desk.outage,
        custom_values={"asset_tag": "SR-1234", "office": forms.berlin.pk, "cost": "250"},
    )


def test_a_ticket_fields_answer_is_filled_in(desk, outage_ticket, make_response):
    response = make_response(body="Asset %{ticket.field.asset_tag} in %{ticket.field.office}.")
    assert services.render_for(desk.john.user, outage_ticket, response).text == "Asset SR-1234 in Berlin."


def test_an_agents_only_answer_never_reaches_the_customer(desk, outage_ticket, make_response):
    response = make_response(body="Repair cost: [%{ticket.field.cost}]")
    assert services.render_for(desk.john.user, outage_ticket, response).text == "Repair cost: []"


def test_an_unknown_key_or_a_person_field_is_refused_when_saved(desk, forms, make_response):  # noqa: F811
    for body in ("%{ticket.field.colour}", "%{ticket.field.badge}"):
        with pytest.raises(ValidationError) as refused:
            make_response(body=body)
        assert body in refused.value.message_dict["body"][0]
