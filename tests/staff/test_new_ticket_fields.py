"""The agent's New ticket form asks the chosen topic's custom fields, as the portal does, and
every field (agents-only ones included): answers are saved with the ticket, errors keep them."""

from __future__ import annotations

import pytest

from django.urls import reverse

from tessera.customfields.selectors import values_for
from tessera.tickets.models import Ticket
from tests.customfields.conftest import forms  # noqa: F401  (the desk's custom forms)

from .test_new_ticket import form_data


@pytest.fixture
def john(client, desk, forms):  # noqa: F811
    forms.hardware.topics.add(desk.general)  # a topic in John's department asks the hardware form
    client.force_login(desk.john.user)
    return client


def test_choosing_a_topic_reveals_its_fields_for_agents_including_agents_only_ones(john, desk):
    html = john.get(reverse("customfields:topic_fields"), {"topic": desk.general.pk, "audience": "agent"}).content
    assert b'name="cf_asset_tag"' in html and b'name="cf_cost"' in html
    page = john.get(reverse("staff:new_ticket")).content.decode()
    assert 'hx-get="/fields/topic/?audience=agent"' in page.replace("&amp;", "&")
    assert 'name="cf_phone"' in page  # the form every ticket asks is there from the start


def test_the_answers_are_saved_with_the_ticket(john, desk, forms):  # noqa: F811
    answers = {"cf_asset_tag": "SR-1234", "cf_office": forms.lisbon.pk, "cf_cost": "120"}
    response = john.post(reverse("staff:new_ticket"), form_data(desk, **answers))
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Payslips print blank")
    assert values_for(ticket) == {"asset_tag": "SR-1234", "office": "Lisbon", "cost": "120", "urgent": "No"}


def test_a_wrong_answer_is_shown_at_its_field_and_everything_typed_is_kept(john, desk):
    response = john.post(reverse("staff:new_ticket"), form_data(desk, cf_asset_tag="nope", cf_cost="99999"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Two capital letters, a dash and four digits." in html
    assert 'value="nope"' in html and "Payslips print blank" in html
    assert not Ticket.objects.filter(subject="Payslips print blank").exists()


def test_a_required_answer_left_out_is_refused(john, desk):
    response = john.post(reverse("staff:new_ticket"), form_data(desk))
    assert response.status_code == 400
    assert not Ticket.objects.filter(subject="Payslips print blank").exists()
