"""The ticket page's answers: listed (retired fields marked, still shown), edited one at a time
by agents with the manage right, each edit an Event with before and after on the timeline."""

from __future__ import annotations

import pytest

from django.urls import reverse
from django.utils import timezone

from tessera.customfields import services
from tessera.customfields.models import FieldValue
from tessera.tickets import services as ticket_services
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import Event, EventKind

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def outage(desk, forms):
    ticket = ticket_services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject="Server is smoking",
        message="Rack 4.",
        topic=desk.outage,
        custom_values={"asset_tag": "AB-1234", "office": forms.berlin.pk},
    )
    # Jane's System Administration department has the ticket.
    return ticket


def field_url(ticket, key: str) -> str:
    return reverse("customfields:ticket_field", args=[ticket.number, key])


def test_the_ticket_page_lists_answers_and_unanswered_fields(client, desk, forms, outage):
    client.force_login(desk.jane.user)
    page = client.get(reverse("staff:ticket", args=[outage.number])).content.decode()
    assert "Form answers" in page
    assert "AB-1234" in page and "Berlin" in page
    assert "Affected since" in page and "Not answered" in page
    assert field_url(outage, "asset_tag") in page  # Jane may edit
    assert page.count('id="timeline"') == 1


def test_an_agent_changes_an_answer_inline_and_the_timeline_says_from_what_to_what(client, desk, forms, outage):
    client.force_login(desk.jane.user)
    form = client.get(field_url(outage, "office"), **HTMX)
    assert form.status_code == 200 and 'name="cf_office"' in form.content.decode()
    saved = client.post(field_url(outage, "office"), {"cf_office": forms.lisbon.pk, "version": outage.version}, **HTMX)
    assert saved.status_code == 200
    assert "Office saved." in saved.content.decode()
    assert FieldValue.objects.get(ticket=outage, field=forms.office).item == forms.lisbon
    event = Event.objects.get(ticket=outage, kind=EventKind.FIELD_CHANGED)
    assert (event.before, event.after, event.data["key"]) == ("Berlin", "Lisbon", "office")
    assert event_sentence(event) == "Jane Doe changed Office from Berlin to Lisbon"
    outage.refresh_from_db()
    assert outage.version == 2


def test_an_edit_that_changes_nothing_leaves_no_event(desk, forms, outage):
    changes = services.save_values(desk.jane.user, outage, {"cf_asset_tag": "AB-1234"})
    assert changes == []
    assert not Event.objects.filter(ticket=outage, kind=EventKind.FIELD_CHANGED).exists()


def test_clearing_and_setting_answers_read_on_the_timeline(desk, forms, outage):
    services.save_values(desk.jane.user, outage, {"cf_office": None, "cf_symptoms": [forms.smoke, forms.noise]})
    sentences = [
        event_sentence(e) for e in Event.objects.filter(ticket=outage, kind=EventKind.FIELD_CHANGED).order_by("id")
    ]
    assert sentences == ["Jane Doe cleared Office (was Berlin)", "Jane Doe set Symptoms to Noise, Smoke"]
    assert not FieldValue.objects.filter(ticket=outage, field=forms.office).exists()


def test_an_invalid_answer_comes_back_with_what_was_typed_and_the_reason(client, desk, forms, outage):
    client.force_login(desk.jane.user)
    refused = client.post(
        field_url(outage, "asset_tag"), {"cf_asset_tag": "ab 12<script>", "version": outage.version}, **HTMX
    )
    body = refused.content.decode()
    assert refused.status_code == 400
    assert "Two capital letters, a dash and four digits." in body
    assert 'value="ab 12&lt;script&gt;"' in body
    assert FieldValue.objects.get(ticket=outage, field=forms.asset).text == "AB-1234"


def test_without_javascript_the_edit_is_a_page_and_a_save_goes_back_to_the_ticket(client, desk, forms, outage):
    client.force_login(desk.jane.user)
    page = client.get(field_url(outage, "affected_since"))
    assert page.status_code == 200 and "<h1>" in page.content.decode()
    saved = client.post(
        field_url(outage, "affected_since"), {"cf_affected_since": "2026-11-30", "version": outage.version}
    )
    assert saved.status_code == 302 and saved["Location"].endswith("#custom-fields")


def test_a_stale_form_is_refused_and_changes_nothing(client, desk, forms, outage):
    client.force_login(desk.jane.user)
    stale = client.post(
        field_url(outage, "asset_tag"), {"cf_asset_tag": "CD-5678", "version": outage.version - 1}, **HTMX
    )
    assert stale.status_code == 409
    assert FieldValue.objects.get(ticket=outage, field=forms.asset).text == "AB-1234"


def test_an_agent_without_the_manage_right_sees_answers_but_cannot_edit(client, desk, forms, outage):
    from tessera.accounts.models import Membership, Role

    Membership.objects.filter(agent=desk.jane).update(role=Role.objects.get(name="Observer"))
    client.force_login(desk.jane.user)
    page = client.get(reverse("staff:ticket", args=[outage.number])).content.decode()
    assert "AB-1234" in page and field_url(outage, "asset_tag") not in page
    refused = client.post(
        field_url(outage, "asset_tag"), {"cf_asset_tag": "CD-5678", "version": outage.version}, **HTMX
    )
    assert refused.status_code == 403
    assert FieldValue.objects.get(ticket=outage, field=forms.asset).text == "AB-1234"


def test_an_agent_who_cannot_see_the_ticket_gets_404(client, desk, forms, outage):
    client.force_login(desk.bill.user)
    assert client.get(field_url(outage, "asset_tag")).status_code == 404
    assert client.post(field_url(outage, "asset_tag"), {"cf_asset_tag": "CD-5678"}).status_code == 404


def test_a_retired_field_stays_readable_but_is_not_editable(client, desk, forms, outage):
    forms.office.retired_at = timezone.now()
    forms.office.save()
    client.force_login(desk.jane.user)
    page = client.get(reverse("staff:ticket", args=[outage.number])).content.decode()
    assert "Berlin" in page and "retired" in page
    assert field_url(outage, "office") not in page
    assert client.post(field_url(outage, "office"), {"cf_office": forms.lisbon.pk}).status_code == 404


def test_end_users_never_edit_answers_after_intake(desk, forms, outage):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.save_values(desk.ken, outage, {"cf_asset_tag": "CD-5678"})


def test_the_ticket_page_query_count_does_not_grow_with_answers(client, desk, forms, outage, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(desk.jane.user)
    url = reverse("staff:ticket", args=[outage.number])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    services.save_values(
        desk.jane.user,
        outage,
        {"cf_symptoms": [forms.noise, forms.smoke], "cf_cost": 12, "cf_triage_note": "Fan", "cf_affected_since": None},
    )
    client.get(url)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
