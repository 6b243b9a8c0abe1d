"""The portal's new-ticket form asks the chosen topic's fields: revealed when the topic changes,
checked with the rest of the form, kept as typed when something is wrong, stored with the ticket."""

from __future__ import annotations

import pytest

from django.urls import reverse

from tessera.customfields.models import FieldValue
from tessera.tickets.models import Ticket

HOME = reverse("portal:home")
TOPIC_FIELDS = reverse("customfields:topic_fields")


@pytest.fixture(autouse=True)
def _no_limit(no_intake_limit):
    pass


def guest_form(desk, **extra) -> dict:
    return {
        "name": "Greta Guest",
        "email": "greta@example.org",
        "topic": desk.outage.pk,
        "subject": "Server smoking",
        "message": "Rack 4 smells of smoke.",
        **extra,
    }


def test_choosing_a_topic_reveals_its_fields_as_labelled_inputs(client, desk, forms):
    html = client.get(TOPIC_FIELDS, {"topic": desk.outage.pk, "audience": "user"}).content.decode()
    assert "<legend>Hardware</legend>" in html and "<legend>Everyone</legend>" in html
    assert '<label for="id_cf_asset_tag">Asset tag</label>' in html
    assert "<legend>Symptoms</legend>" in html  # a group of boxes is a fieldset with its legend
    assert "Repair cost" not in html and "Triage" not in html  # agents' fields


def test_the_home_page_asks_the_every_ticket_fields_and_wires_the_topic_select(client, desk, forms):
    html = client.get(HOME).content.decode()
    assert 'id="topic-fields"' in html and "Stops my work" in html
    assert f'hx-get="{TOPIC_FIELDS}?audience=user"' in html
    assert "Asset tag" not in html


def test_topics_end_users_cannot_choose_and_agents_only_fields_are_not_revealed(client, desk, forms):
    assert client.get(TOPIC_FIELDS, {"topic": desk.internal.pk}).status_code == 404
    assert client.get(TOPIC_FIELDS, {"topic": "1 OR 1=1"}).status_code == 404
    assert client.get(TOPIC_FIELDS, {"topic": desk.outage.pk, "audience": "agent"}).status_code == 404
    client.force_login(desk.jane.user)
    agent_html = client.get(TOPIC_FIELDS, {"topic": desk.outage.pk, "audience": "agent"}).content.decode()
    assert "Repair cost" in agent_html


def test_a_guest_answers_the_topics_fields_and_they_are_stored_with_the_ticket(client, desk, forms):
    response = client.post(
        HOME,
        guest_form(
            desk,
            cf_asset_tag="AB-1234",
            cf_office=forms.berlin.pk,
            cf_symptoms=[forms.noise.pk, forms.smoke.pk],
            cf_urgent="on",
        ),
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Server smoking")
    assert FieldValue.objects.get(ticket=ticket, field=forms.asset).text == "AB-1234"
    assert FieldValue.objects.filter(ticket=ticket, field=forms.seen).count() == 2
    assert FieldValue.objects.get(ticket=ticket, field=forms.urgent).flag is True


def test_a_wrong_answer_keeps_everything_typed_and_says_what_to_fix(client, desk, forms):
    response = client.post(
        HOME,
        guest_form(
            desk,
            cf_asset_tag="ab-12",
            cf_phone="+49 30 123",
            cf_affected_since="2026-11-31",
            cf_symptoms=[forms.smoke.pk],
        ),
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Two capital letters, a dash and four digits." in html
    assert 'value="ab-12"' in html and 'value="+49 30 123"' in html and 'value="2026-11-31"' in html
    assert f'value="{forms.smoke.pk}"' in html and "checked" in html
    assert 'value="Server smoking"' in html  # the main form too
    assert not Ticket.objects.filter(subject="Server smoking").exists()


def test_without_javascript_a_required_field_appears_with_its_error_after_the_first_post(client, desk, forms):
    response = client.post(HOME, guest_form(desk))
    html = response.content.decode()
    assert response.status_code == 400
    assert '<label for="id_cf_asset_tag">Asset tag</label>' in html
    assert "This field is required." in html


def test_an_item_of_another_list_and_agents_fields_posted_anyway_are_refused_or_ignored(client, desk, forms):
    refused = client.post(HOME, guest_form(desk, cf_asset_tag="AB-1234", cf_office=forms.red.pk))
    assert refused.status_code == 400 and "Choose one of the options listed." in refused.content.decode()
    accepted = client.post(HOME, guest_form(desk, cf_asset_tag="AB-1234", cf_cost="5", cf_triage_note="pwned"))
    assert accepted.status_code == 302
    ticket = Ticket.objects.get(subject="Server smoking")
    assert set(FieldValue.objects.filter(ticket=ticket).values_list("field__key", flat=True)) == {"asset_tag", "urgent"}


def test_a_huge_answer_is_refused_not_stored(client, desk, forms):
    response = client.post(HOME, guest_form(desk, cf_asset_tag="AB-1234", cf_phone="1" * 100_000))
    assert response.status_code == 400
    assert not Ticket.objects.filter(subject="Server smoking").exists()


def test_the_form_with_the_topics_fields_labels_every_control(client, desk, forms):
    from tests.portal.helpers import assert_accessible_page

    assert_accessible_page(client.post(HOME, guest_form(desk, cf_symptoms=[forms.noise.pk])))


def test_the_requester_sees_their_answers_and_what_agents_filled_in_for_them_but_not_agents_notes(client, desk, forms):
    from tessera.customfields import services
    from tessera.tickets import services as ticket_services

    ticket = ticket_services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject="Server smoking",
        message="Rack 4.",
        topic=desk.outage,
        custom_values={"asset_tag": "AB-1234"},
    )
    services.save_values(desk.jane.user, ticket, {"cf_triage_note": "Fan replaced", "cf_cost": 120})
    client.force_login(desk.ken)
    html = client.get(reverse("portal:ticket", args=[ticket.number])).content.decode()
    assert "AB-1234" in html and "Fan replaced" in html
    assert "Repair cost" not in html and "120" not in html
