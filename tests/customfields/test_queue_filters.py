"""Custom ticket fields in the workspace queues: filters ("has any of these items", yes/no,
ranges) and optional columns, on system and saved queues."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tessera.customfields.models import FieldValue
from tessera.staff.filters import QueueFilter
from tessera.staff.models import SavedQueue
from tessera.tickets import services as ticket_services

pytestmark = pytest.mark.django_db


def _open(desk, subject, **values):
    values.setdefault("asset_tag", "AB-0001")
    return ticket_services.open_ticket(
        desk.ken, requester=desk.ken, subject=subject, message="Rack 4.", topic=desk.outage, custom_values=values
    )


def subjects(html: str) -> list[str]:
    return re.findall(r'<td class="subject"><a href="[^"]+"[^>]*>([^<]+)</a>', html)


@pytest.fixture
def answered(desk, forms):
    """Three outage tickets in System Administration (Jane's department) with different answers."""
    return {
        "berlin": _open(desk, "Berlin fan", office=forms.berlin.pk, urgent=True, symptoms=[forms.noise.pk]),
        "lisbon": _open(desk, "Lisbon smoke", office=forms.lisbon.pk, urgent=False, symptoms=[forms.smoke.pk]),
        "none": _open(desk, "Nowhere", symptoms=[forms.noise.pk, forms.smoke.pk]),
    }


def queue(client, desk, **params) -> str:
    client.force_login(desk.jane.user)
    response = client.get(reverse("staff:queue", args=["all"]), params, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_filtering_on_a_list_field_lists_only_tickets_with_that_item(client, desk, forms, answered):
    html = queue(client, desk, **{"cf_office": forms.berlin.pk})
    assert subjects(html) == ["Berlin fan"]
    assert "Office: Berlin" in html  # the chip says what is filtered


def test_several_items_of_a_field_mean_any_of_them(client, desk, forms, answered):
    html = queue(client, desk, **{"cf_office": f"{forms.berlin.pk},{forms.lisbon.pk}"})
    assert sorted(subjects(html)) == ["Berlin fan", "Lisbon smoke"]


def test_a_multiple_choice_filter_finds_every_ticket_that_chose_the_item(client, desk, forms, answered):
    html = queue(client, desk, **{"cf_symptoms": forms.smoke.pk})
    assert sorted(subjects(html)) == ["Lisbon smoke", "Nowhere"]


def test_a_checkbox_filter_tells_ticked_from_not_ticked(client, desk, forms, answered):
    assert subjects(queue(client, desk, cf_urgent="yes")) == ["Berlin fan"]
    # A box left unticked on the form is an answer: "no".
    assert sorted(subjects(queue(client, desk, cf_urgent="no"))) == ["Lisbon smoke", "Nowhere"]


def test_a_number_range_keeps_tickets_whose_answer_lies_inside_it(client, desk, forms, answered):
    from tessera.customfields import services

    services.save_values(desk.jane.user, answered["berlin"], {"cf_cost": Decimal("120")})
    services.save_values(desk.jane.user, answered["lisbon"], {"cf_cost": Decimal("900")})
    assert subjects(queue(client, desk, cfmin_cost="100", cfmax_cost="500")) == ["Berlin fan"]
    assert sorted(subjects(queue(client, desk, cfmin_cost="100"))) == ["Berlin fan", "Lisbon smoke"]


def test_unknown_fields_and_items_are_ignored_with_a_note_not_an_error(client, desk, forms, answered):
    html = queue(
        client,
        desk,
        cf_nonsense="1",
        cf_office=["99999", "x<script>"],
        cf_urgent="maybe",
        cfmin_cost="lots",
        cf_asset_tag="AB",  # free text is not a filter
    )
    assert len(subjects(html)) == 3
    assert "“nonsense” was ignored" in html
    assert "Office “99999” was ignored: there is no such choice." in html
    assert "x&lt;script&gt;" in html and "x<script>" not in html
    assert "Stops my work “maybe” was ignored" in html
    assert "Repair cost “lots” was ignored: that is not a number." in html
    assert "“asset_tag” was ignored" in html


def test_a_list_shared_by_two_fields_filters_on_the_named_field_only(desk, forms):
    from tessera.customfields.models import Field, FieldType

    Field.objects.create(
        form=forms.every, key="billed_office", label="Billed office", type=FieldType.LIST, choice_list=forms.offices
    )
    billed = _open(desk, "Billed in Berlin", billed_office=forms.berlin.pk, office=forms.lisbon.pk)
    located = _open(desk, "Located in Berlin", office=forms.berlin.pk)
    qf = QueueFilter.from_params({"cf_office": [str(forms.berlin.pk)]})
    from tessera.tickets.models import Ticket

    assert list(qf.apply(Ticket.objects.all())) == [located]
    assert billed not in qf.apply(Ticket.objects.all())


def test_the_filter_is_a_semi_join_on_the_answers(desk, forms):
    qf = QueueFilter.from_params({"cf_office": [str(forms.berlin.pk)]})
    from tessera.tickets.models import Ticket

    sql = str(qf.apply(Ticket.objects.all()).query).upper()
    assert "EXISTS" in sql and FieldValue._meta.db_table.upper() in sql


def test_a_saved_queue_keeps_its_custom_field_filter_and_column(client, desk, forms, answered):
    client.force_login(desk.jane.user)
    params = {"name": "Berlin", "queue": "all", "cf_office": str(forms.berlin.pk), "cols": "status,cf_office"}
    response = client.post(reverse("staff:saved_queue_create"), params)
    assert response.status_code == 302
    saved = SavedQueue.objects.get(name="Berlin")
    assert saved.params["cf_office"] == [str(forms.berlin.pk)]
    html = client.get(reverse("staff:saved_queue", args=[saved.pk])).content.decode()
    assert subjects(html) == ["Berlin fan"]
    assert '<td class="col-cf"><span class="cut" title="Berlin">Berlin</span></td>' in html


def test_custom_columns_show_each_rows_answer_escaped(client, desk, forms, answered):
    from tessera.customfields import services

    services.save_values(desk.jane.user, answered["none"], {"cf_triage_note": "<script>alert(1)</script>"})
    html = queue(client, desk, cols="cf_office,cf_symptoms,cf_triage_note")
    assert ">Office</a>" in html or ">Office<" in html  # the header
    assert 'title="Noise, Smoke">Noise, Smoke<' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_custom_columns_cost_one_query_whatever_the_page_holds(client, desk, forms):
    client.force_login(desk.jane.user)
    url = reverse("staff:queue", args=["all"]) + "?" + urlencode({"cols": "status,cf_office,cf_symptoms"})
    _open(desk, "First", office=forms.berlin.pk)
    client.get(url, follow=True)  # warm the process memos
    reset_queries()  # the log is a bounded deque: opening tickets can rotate it under a capture
    with CaptureQueriesContext(connection) as few:
        client.get(url, follow=True)
    for n in range(6):
        _open(desk, f"More {n}", office=forms.lisbon.pk, symptoms=[forms.noise.pk, forms.smoke.pk])
    reset_queries()  # the log is a bounded deque: opening tickets can rotate it under a capture
    with CaptureQueriesContext(connection) as many:
        html = client.get(url, follow=True).content.decode()
    assert html.count('class="col-cf"') == 7 * 2
    assert len(many) == len(few)
    answers = [q for q in many.captured_queries if FieldValue._meta.db_table in q["sql"]]
    assert len(answers) == 1


def test_the_filter_form_offers_choice_checkbox_and_range_fields_but_not_text(client, desk, forms, answered):
    html = queue(client, desk)
    assert 'name="cf_office"' in html and 'name="cf_symptoms"' in html
    assert 'name="cf_urgent"' in html
    assert 'name="cfmin_cost"' in html and 'name="cfmax_affected_since"' in html
    assert 'name="cf_asset_tag"' not in html
    assert 'value="cf_asset_tag"' in html  # …but every field can be a column
