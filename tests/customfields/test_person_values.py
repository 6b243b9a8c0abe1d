"""A user's and an organisation's answers: a panel the directory pages include, edited inline
by agents, each change in the audit log (people have no timeline)."""

from __future__ import annotations

import datetime

import pytest

from django.urls import reverse

from tessera.accounts.models import Organization
from tessera.audit.models import AuditEntry
from tessera.customfields.models import FieldValue

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def acme(desk):
    return Organization.objects.create(name="Acme")


def test_an_agent_reads_and_edits_a_users_answer_inline(client, desk, forms):
    client.force_login(desk.john.user)
    panel = client.get(reverse("customfields:person_values", args=["user", desk.ken.pk]), **HTMX)
    assert panel.status_code == 200 and "Badge number" in panel.content.decode()
    url = reverse("customfields:person_field", args=["user", desk.ken.pk, "badge"])
    assert 'name="cf_badge"' in client.get(url, **HTMX).content.decode()
    saved = client.post(url, {"cf_badge": "1207"}, **HTMX)
    assert saved.status_code == 200 and "1207" in saved.content.decode()
    assert FieldValue.objects.get(user=desk.ken, field=forms.badge).number == 1207
    entry = AuditEntry.objects.filter(object_type="accounts.user", object_id=str(desk.ken.pk)).latest("id")
    assert entry.actor_label == "john@example.com" and entry.after == {"badge": "1207"}


def test_a_wrong_answer_keeps_what_was_typed(client, desk, forms):
    client.force_login(desk.john.user)
    url = reverse("customfields:person_field", args=["user", desk.ken.pk, "badge"])
    refused = client.post(url, {"cf_badge": "-3x"}, **HTMX)
    assert refused.status_code == 400 and 'value="-3x"' in refused.content.decode()
    assert not FieldValue.objects.filter(user=desk.ken).exists()


def test_an_organisations_answers_and_their_panel_page(client, desk, forms, acme):
    from tests.portal.helpers import assert_accessible_page

    client.force_login(desk.john.user)
    url = reverse("customfields:person_field", args=["organization", acme.pk, "contract_until"])
    saved = client.post(url, {"cf_contract_until": "2027-03-31"})
    assert saved.status_code == 302
    page = client.get(saved["Location"])
    assert "2027-03-31" in page.content.decode()
    assert_accessible_page(page)


def test_desk_staff_answers_are_changed_in_the_admin_only(client, desk, forms):
    client.force_login(desk.john.user)
    url = reverse("customfields:person_field", args=["user", desk.jane.user.pk, "badge"])
    assert client.post(url, {"cf_badge": "5"}, **HTMX).status_code == 403
    assert not FieldValue.objects.filter(user=desk.jane.user).exists()


def test_end_users_and_strangers_cannot_reach_the_panels(client, desk, forms, acme):
    url = reverse("customfields:person_values", args=["organization", acme.pk])
    assert client.get(url).status_code == 302
    client.force_login(desk.ken)
    assert client.get(url).status_code == 403
    client.force_login(desk.john.user)
    assert client.get(reverse("customfields:person_values", args=["organization", 999_999])).status_code == 404
    assert client.get("/fields/ticket/1/").status_code == 404


def test_the_directory_pages_show_a_persons_and_an_organisations_answers(client, desk, forms):
    from tessera.accounts.models import Organization
    from tessera.customfields import services as field_services

    acme = Organization.objects.create(name="Acme")
    field_services.save_values(desk.admin, desk.ken, {"cf_badge": 42})
    field_services.save_values(desk.admin, acme, {"cf_contract_until": datetime.date(2027, 3, 31)})
    client.force_login(desk.john.user)
    person = client.get(f"/staff/people/{desk.ken.pk}/").content.decode()
    assert "Badge number" in person and "42" in person
    organisation = client.get(f"/staff/organisations/{acme.pk}/").content.decode()
    assert "Contract until" in organisation and "2027" in organisation
