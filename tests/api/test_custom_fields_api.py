"""Custom fields through the REST API: typed answers on ticket reads, checked answers when a
ticket is opened, changes with an Event and If-Match, people's answers in the directory, and
the list of field definitions."""

from __future__ import annotations

import json

import pytest

from django.urls import reverse

from tessera.api.models import Scope
from tessera.customfields.models import FieldValue
from tessera.tickets import services as ticket_services
from tessera.tickets.models import Event, Ticket
from tests.customfields import conftest as field_fixtures

from .osticket_client import ost_fixture, ost_key_fixture  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

forms = field_fixtures.forms  # the "forms" fixture: a hardware form on the outage topic, and more

TICKETS = "/api/v1/tickets"


@pytest.fixture
def jane_key(desk, make_key) -> str:
    """Jane (System Administration) reads and writes tickets and people."""
    scopes = [Scope.TICKETS_READ, Scope.TICKETS_WRITE, Scope.USERS_READ, Scope.USERS_WRITE]
    return make_key("Jane's script", agent=desk.jane, scopes=scopes)[1]


def _errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def _new(api, key, desk, **extra):
    body = {
        "requester_email": "ken@example.com",
        "subject": "Rack 4 smokes",
        "message": "Since noon.",
        "topic_id": desk.outage.pk,
        **extra,
    }
    return api.post(TICKETS, json.dumps(body), key=key)


def test_an_agent_key_opens_a_ticket_with_typed_answers_and_reads_them_back(api, jane_key, desk, forms):
    response = _new(
        api,
        jane_key,
        desk,
        fields={
            "asset_tag": "AB-1234",
            "office": "berlin",  # a choice by its label, any case
            "symptoms": ["Noise", forms.smoke.pk],  # …or by its item id
            "affected_since": "2026-11-30",
            "cost": 120.5,
            "urgent": True,
        },
    )
    assert response.status_code == 201, response.content
    expected = {
        "asset_tag": "AB-1234",
        "office": "Berlin",
        "symptoms": ["Noise", "Smoke"],
        "affected_since": "2026-11-30",
        "cost": 120.5,
        "urgent": True,
    }
    assert response.json()["fields"] == expected
    number = response.json()["number"]
    assert api.get(f"{TICKETS}/{number}", key=jane_key).json()["fields"] == expected
    assert FieldValue.objects.get(ticket__number=number, field=forms.office).item == forms.berlin


def test_answers_are_checked_as_on_the_portal_and_errors_name_the_field(api, jane_key, desk, forms):
    response = _new(api, jane_key, desk, fields={"asset_tag": "AB-1234", "nonsense": 1})
    assert response.status_code == 422
    assert _errors(response) == {"fields.nonsense": "There is no such field."}
    response = _new(api, jane_key, desk, fields={"asset_tag": "nope", "office": "Atlantis", "urgent": "yes"})
    assert response.status_code == 422
    errors = _errors(response)
    assert set(errors) == {"fields.office", "fields.urgent"}  # shapes first
    assert "Atlantis" in errors["fields.office"]
    response = _new(api, jane_key, desk, fields={"asset_tag": "nope", "cost": 999999})
    assert response.status_code == 422
    errors = _errors(response)
    assert errors["fields.asset_tag"] == "Two capital letters, a dash and four digits."
    assert "fields.cost" in errors
    response = _new(api, jane_key, desk, fields={})
    assert "fields.asset_tag" in _errors(response)  # required
    response = _new(api, jane_key, desk, fields={"asset_tag": "AB-1234", "symptoms": [2**70], "office": -1})
    assert set(_errors(response)) == {"fields.symptoms", "fields.office"}  # ids no key can hold: 422, not 500
    assert not Ticket.objects.exists()


def test_a_hostile_answer_is_stored_and_returned_as_plain_text(api, jane_key, desk, forms):
    hostile = "<script>alert(1)</script>\u202e"
    response = _new(api, jane_key, desk, fields={"asset_tag": "AB-1234", "triage_note": hostile})
    assert response.status_code == 201
    assert response.json()["fields"]["triage_note"] == hostile


def test_a_system_key_answers_only_what_the_requester_fills_in(api, system_key, desk, forms):
    response = _new(api, system_key, desk, fields={"asset_tag": "AB-1234", "cost": 10})
    assert response.status_code == 422
    assert _errors(response) == {"fields.cost": "This field is filled in by the help desk."}
    response = _new(api, system_key, desk, fields={"asset_tag": "AB-1234", "office": "Lisbon"})
    assert response.status_code == 201
    number = response.json()["number"]
    FieldValue.objects.create(field=forms.cost, ticket=Ticket.objects.get(number=number), number=5)
    # …and reads only what the requester may see.
    assert api.get(f"{TICKETS}/{number}", key=system_key).json()["fields"] == {
        "asset_tag": "AB-1234",
        "office": "Lisbon",
        "urgent": False,
    }


def test_a_retired_field_cannot_be_answered_or_changed_but_its_answer_stays_readable(api, jane_key, desk, forms):
    from django.utils import timezone

    ticket = _new(api, jane_key, desk, fields={"asset_tag": "AB-1234", "office": "Berlin"}).json()
    forms.office.retired_at = timezone.now()
    forms.office.save()
    response = _new(api, jane_key, desk, fields={"asset_tag": "AB-1234", "office": "Berlin"})
    assert _errors(response) == {"fields.office": "This field is retired and can no longer be answered."}
    url = f"{TICKETS}/{ticket['number']}/fields"
    response = api.post(url, json.dumps({"fields": {"office": "Lisbon"}}), key=jane_key)
    assert response.status_code == 422
    assert "fields.office" in _errors(response)
    assert api.get(f"{TICKETS}/{ticket['number']}", key=jane_key).json()["fields"]["office"] == "Berlin"


def test_changing_answers_leaves_an_event_and_honours_if_match(api, jane_key, desk, forms):
    created = _new(api, jane_key, desk, fields={"asset_tag": "AB-1234", "office": "Berlin"})
    number, etag = created.json()["number"], created["ETag"]
    url = f"{TICKETS}/{number}/fields"
    body = json.dumps({"fields": {"office": "Lisbon", "cost": 42}})
    response = api.post(url, body, key=jane_key, headers={"If-Match": etag})
    assert response.status_code == 200, response.content
    assert response.json()["fields"]["office"] == "Lisbon" and response.json()["fields"]["cost"] == 42
    assert response["ETag"] != etag
    changes = Event.objects.filter(ticket__number=number, kind="field_changed").order_by("id")
    assert [(e.before, e.after) for e in changes] == [("Berlin", "Lisbon"), ("", "42")]
    assert all(e.data.get("via") == "API key “Jane's script”" for e in changes)
    stale = api.post(url, json.dumps({"fields": {"office": "Berlin"}}), key=jane_key, headers={"If-Match": etag})
    assert stale.status_code == 412
    cleared = api.post(url, json.dumps({"fields": {"cost": None}}), key=jane_key)
    assert "cost" not in cleared.json()["fields"]


def test_only_agents_who_may_manage_the_ticket_change_its_answers(api, jane_key, system_key, desk, make_key, forms):
    number = _new(api, jane_key, desk, fields={"asset_tag": "AB-1234"}).json()["number"]
    url = f"{TICKETS}/{number}/fields"
    body = json.dumps({"fields": {"office": "Lisbon"}})
    assert api.post(url, body, key=system_key).status_code == 403
    olga = make_key("Olga's script", agent=desk.olga)[1]  # an observer in Support: cannot see it
    assert api.post(url, body, key=olga).status_code == 404
    john_as_observer = make_key("Observer", agent=desk.olga)[1]
    ticket = Ticket.objects.get(number=number)
    ticket_services.transfer(desk.jane.user, ticket, department=desk.support)
    response = api.post(url, body, key=john_as_observer)
    assert response.status_code == 403
    assert not FieldValue.objects.filter(ticket__number=number, field=forms.office).exists()


def _counted(call):
    """(what `call` returned, the statements it ran), counted as they run."""
    from django.db import connection

    ran: list[str] = []

    def count(execute, sql, params, many, context):
        ran.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        return call(), ran


def test_the_ticket_list_carries_answers_in_one_query_for_the_page(api, jane_key, desk, forms):
    for n in range(2):
        _new(api, jane_key, desk, fields={"asset_tag": f"AB-000{n}", "office": "Berlin"})
    api.get(TICKETS, key=jane_key)
    _response, few = _counted(lambda: api.get(TICKETS, key=jane_key))
    for n in range(5):
        _new(api, jane_key, desk, fields={"asset_tag": f"AB-100{n}", "symptoms": ["Noise", "Smoke"]})
    response, many = _counted(lambda: api.get(TICKETS, key=jane_key))
    assert len(many) == len(few)
    assert len([sql for sql in many if FieldValue._meta.db_table in sql]) == 1
    items = response.json()["items"]
    assert len(items) == 7
    assert {tuple(i["fields"].get("symptoms", [])) for i in items} == {(), ("Noise", "Smoke")}


def test_people_and_organisations_read_and_change_their_answers(api, jane_key, system_key, desk, forms):
    from tessera.accounts.models import Organization
    from tessera.audit.models import AuditEntry

    user_url = f"/api/v1/users/{desk.ken.pk}"
    response = api.patch(user_url, json.dumps({"fields": {"badge": 7}}), key=jane_key)
    assert response.status_code == 200, response.content
    assert response.json()["fields"] == {"badge": 7}
    assert api.get(user_url, key=jane_key).json()["fields"] == {"badge": 7}
    bad = api.patch(user_url, json.dumps({"fields": {"badge": 0, "nope": "x"}}), key=jane_key)
    assert bad.status_code == 422 and set(_errors(bad)) == {"fields.nope"}
    bad = api.patch(user_url, json.dumps({"fields": {"badge": 0}}), key=jane_key)
    assert bad.status_code == 422 and set(_errors(bad)) == {"fields.badge"}
    acme = Organization.objects.create(name="Acme")  # agents may answer its fields; admins rename it
    org_url = f"/api/v1/organisations/{acme.pk}"
    response = api.patch(org_url, json.dumps({"fields": {"contract_until": "2027-06-30"}}), key=jane_key)
    assert response.status_code == 200, response.content
    assert response.json()["fields"] == {"contract_until": "2027-06-30"}
    assert AuditEntry.objects.filter(detail="custom fields").count() == 2
    # A system key changes no answers of people (an agent is named in the audit log).
    assert api.patch(user_url, json.dumps({"fields": {"badge": 9}}), key=system_key).status_code in (403,)


def test_field_definitions_list_keys_types_and_choices_for_the_keys_audience(api, jane_key, system_key, forms):
    items = {f["key"]: f for f in api.get("/api/v1/fields", key=jane_key).json()["items"]}
    assert items["office"]["choices"] == ["Berlin", "Lisbon"]
    assert items["office"]["type"] == "list" and items["office"]["target"] == "ticket"
    assert items["badge"]["target"] == "user"
    assert "cost" in items
    seen_by_system = {f["key"] for f in api.get("/api/v1/fields?target=ticket", key=system_key).json()["items"]}
    assert "cost" not in seen_by_system and "office" in seen_by_system and "badge" not in seen_by_system
    assert api.get("/api/v1/fields?target=nonsense", key=jane_key).status_code == 422


def test_the_fields_endpoint_has_a_named_url():
    assert reverse("api-v1:fields") == "/api/v1/fields"
    assert reverse("api-v1:ticket_fields", kwargs={"number": 5}) == "/api/v1/tickets/5/fields"


# ---------------------------------------------------------------------------- the osTicket drop-in


def _warned(ticket) -> dict[str, str]:
    from tessera.tickets.models import EventKind

    return dict(Event.objects.filter(ticket=ticket, kind=EventKind.INTAKE_WARNING).values_list("before", "after"))


def test_osticket_keys_that_name_custom_fields_become_answers(ost, desk, forms):
    from .osticket_client import MINIMAL, number

    body = {
        **MINIMAL,
        "topicId": desk.outage.pk,
        "asset_tag": "AB-1234",
        "office": "Lisbon",
        "symptoms": "Noise, Smoke",
        "urgent": "true",
    }
    response = ost.json(body)
    ticket = Ticket.objects.get(number=number(response))
    from tessera.customfields import selectors

    assert selectors.values_for(ticket) == {
        "asset_tag": "AB-1234",
        "office": "Lisbon",
        "symptoms": "Noise, Smoke",
        "urgent": "Yes",
    }
    assert "X-Tessera-Warnings" not in response


def test_osticket_answers_a_field_refuses_are_warnings_with_their_value_not_refusals(ost, desk, forms):
    from .osticket_client import MINIMAL, number

    body = {
        **MINIMAL,
        "topicId": desk.outage.pk,
        "asset_tag": "AB-1234",
        "office": "Atlantis",
        "cost": "12",  # the help desk fills it in
        "contract": "ACME-42",  # no such field
    }
    response = ost.json(body)
    ticket = Ticket.objects.get(number=number(response))
    warned = _warned(ticket)
    assert "Atlantis" in warned["office"] and "not one of the choices" in warned["office"]
    assert "help desk fills this field in" in warned["cost"]
    assert "no custom field has this key" in warned["contract"]
    assert "office:" in response["X-Tessera-Warnings"]
    assert FieldValue.objects.filter(ticket=ticket, field=forms.asset).get().text == "AB-1234"
    assert not FieldValue.objects.filter(ticket=ticket, field=forms.office).exists()


def test_osticket_without_a_required_field_still_opens_the_ticket_and_says_why(ost, desk, forms):
    from .osticket_client import MINIMAL, number

    response = ost.json({**MINIMAL, "topicId": desk.outage.pk, "office": "Berlin"})
    ticket = Ticket.objects.get(number=number(response))
    assert "asset_tag" in _warned(ticket)["office"]
    assert not FieldValue.objects.filter(ticket=ticket).exists()


def test_the_ticket_list_filters_on_a_choice_field_and_names_a_bad_filter(api, jane_key, desk, forms):
    _new(api, jane_key, desk, fields={"asset_tag": "AB-0001", "office": "Berlin"})
    _new(api, jane_key, desk, fields={"asset_tag": "AB-0002", "office": "Lisbon"})
    items = api.get(f"{TICKETS}?cf_office={forms.berlin.pk}", key=jane_key).json()["items"]
    assert [i["fields"]["office"] for i in items] == ["Berlin"]
    response = api.get(f"{TICKETS}?cf_office=99999&cf_nonsense=1", key=jane_key)
    assert response.status_code == 422
    assert set(_errors(response)) == {"cf_office", "cf_nonsense"}


def test_answers_no_database_can_keep_are_refused_by_name(api, jane_key, desk, forms):
    response = _new(api, jane_key, desk, fields={"asset_tag": "AB-1234", "triage_note": "a\x00b"})
    assert response.status_code == 422
    body = '{"fields": {"triage_note": "\\ud800"}}'  # a lone surrogate, as JSON may spell it
    number = _new(api, jane_key, desk, fields={"asset_tag": "AB-1234"}).json()["number"]
    assert api.post(f"{TICKETS}/{number}/fields", body, key=jane_key).status_code == 422
    assert api.patch(f"/api/v1/users/{desk.ken.pk}", '{"fields": {"\\ud800": 1}}', key=jane_key).status_code == 422
