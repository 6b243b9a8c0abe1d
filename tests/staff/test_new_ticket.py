"""The workspace's "New ticket" page and its people lookup: an agent opens a ticket for someone
who phoned or walked in, through services.open_ticket_for_caller."""

from __future__ import annotations

import re

import pytest

from django.test import Client
from django.urls import reverse

from tessera.accounts.models import Organization, User
from tessera.tickets.models import Collaborator, EntryKind, Event, EventKind, Source, Ticket

from .conftest import field_error, flashes, textarea_value

pytestmark = pytest.mark.django_db

NEW = "/staff/tickets/new/"
LOOKUP = "/staff/people/lookup/"


def form_data(desk, **overrides):
    data = {
        "requester": desk.ken.pk,
        "requester_search": "Ken Adams <ken@example.com>",
        "source": Source.PHONE,
        "topic": desk.general.pk,
        "subject": "Payslips print blank",
        "message": "Ken phoned: the payroll printer prints blank pages.",
        "notify_user": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def john(client, desk):
    client.force_login(desk.john.user)
    return client


def test_the_url_is_staff_new_ticket():
    assert reverse("staff:new_ticket") == NEW
    assert reverse("staff:people_lookup") == LOOKUP


def test_the_workspace_header_links_to_the_page_and_the_shortcut_list_names_n(john):
    html = john.get("/staff/").content.decode()
    assert re.search(
        r'<a class="new-ticket-link" href="/staff/tickets/new/" aria-keyshortcuts="n">New ticket</a>', html
    )
    assert 'data-new-ticket-url="/staff/tickets/new/"' in html
    assert re.search(r"<kbd>n</kbd></dt><dd>Open a new ticket", html)


def test_the_page_offers_the_ways_in_the_topics_and_only_johns_departments(john, desk):
    html = john.get(NEW).content.decode()
    source = re.search(r'<select name="source".*?</select>', html, re.S).group(0)
    assert re.findall(r'value="(\w+)"', source) == ["phone", "walk_in", "email", "other"]
    departments = re.search(r'<select name="department".*?</select>', html, re.S).group(0)
    assert "Support" in departments and "Billing" not in departments and "System Administration" not in departments
    assert re.search(r'<select name="topic"[^>]*aria-controls="topic-fields"', html)
    assert '<div id="topic-fields" class="topic-fields">' in html  # the topic's fields go there (htmx)
    assert 'role="combobox"' in html and 'aria-controls="requester-options"' in html


def test_a_phone_ticket_for_ken_lands_on_its_page_with_a_message(john, desk):
    response = john.post(NEW, form_data(desk))
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/tickets/{ticket.number}/"
    assert flashes(response) == [f"Ticket #{ticket.number} is open."]
    assert ticket.user == desk.ken and ticket.source == Source.PHONE
    assert ticket.entries.get().body_text.startswith("Ken phoned")


def test_a_new_person_is_created_from_the_address_typed(john, desk):
    data = form_data(desk, requester=None, requester_search="", requester_email="rosa@example.org")
    data["requester_name"] = "Rosa Diaz"
    assert john.post(NEW, data).status_code == 302
    assert Ticket.objects.get().user == User.objects.get(email="rosa@example.org", name="Rosa Diaz")


def test_a_new_callers_phone_number_is_kept_on_their_details(john, desk):
    data = form_data(desk, requester=None, requester_search="", requester_email="rosa@example.org")
    data["requester_phone"] = "+34 600 000 000"
    assert john.post(NEW, data).status_code == 302
    assert User.objects.get(email="rosa@example.org").phone == "+34 600 000 000"


def test_a_phone_that_is_not_a_number_is_refused_and_the_form_kept(john, desk):
    data = form_data(desk, requester=None, requester_search="", requester_email="rosa@example.org")
    data["requester_phone"] = "<b>555</b>"
    response = john.post(NEW, data)
    assert response.status_code == 400
    assert 'value="rosa@example.org"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_walk_in_is_shown_as_such_on_the_ticket(john, desk):
    john.post(NEW, form_data(desk, source=Source.WALK_IN))
    ticket = Ticket.objects.get()
    assert ticket.source == Source.WALK_IN
    html = john.get(f"/staff/tickets/{ticket.number}/").content.decode()
    assert "<dt>Source</dt><dd>Walk-in</dd>" in html


def test_assignee_note_and_copies_are_applied_with_their_events(john, desk):
    data = form_data(
        desk,
        assignee=desk.john.pk,
        internal_note="Payroll runs tomorrow.",
        collaborators="kim@example.com, boss@example.com",
    )
    john.post(NEW, data)
    ticket = Ticket.objects.get()
    assert ticket.assignee == desk.john
    assert ticket.entries.filter(kind=EntryKind.NOTE, body_text__contains="Payroll runs tomorrow").exists()
    kinds = list(Event.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds.count(EventKind.ASSIGNED) == 1 and kinds.count(EventKind.NOTE) == 1
    assert kinds.count(EventKind.COLLABORATOR_ADDED) == 2
    assert Collaborator.objects.filter(ticket=ticket).count() == 2


def test_with_notify_off_ken_gets_no_mail_and_with_it_on_he_is_told(
    john, desk, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        john.post(NEW, form_data(desk, notify_user=None))
    assert smtp.to("ken@example.com") == []
    with django_capture_on_commit_callbacks(execute=True):
        john.post(NEW, form_data(desk, subject="Second call"))
    told = smtp.to("ken@example.com")
    assert len(told) == 1 and "Second call" in told[0]["Subject"]


def test_a_routing_rule_on_the_channel_applies(john, desk):
    from tessera.rules.models import Action, Condition, Rule

    rule = Rule.objects.create(name="walk-ins are urgent", match="all")
    Condition.objects.create(rule=rule, field="channel", operator="equals", value="walk_in")
    Action.objects.create(rule=rule, kind="priority", priority=desk.sev_a)
    john.post(NEW, form_data(desk, source=Source.WALK_IN))
    assert Ticket.objects.get().priority == desk.sev_a


def test_the_sla_due_time_is_set(john, desk):
    from importlib import import_module

    from django.apps import apps

    from tessera.sla.models import SlaPlan

    if not SlaPlan.objects.filter(is_default=True).exists():
        # The desk's default plan comes from a data migration; a transactional test that ran
        # earlier on this worker may have flushed it.
        import_module("tessera.sla.migrations.0002_default_schedule_and_plan").create(apps, None)
    john.post(NEW, form_data(desk))
    ticket = Ticket.objects.get()
    assert ticket.sla_plan is not None and ticket.due_at is not None


def test_errors_keep_everything_typed_including_the_person_chosen(john, desk):
    data = form_data(desk, subject="", internal_note="Keep me", collaborators="kim@example.com, not-an-address")
    response = john.post(NEW, data)
    html = response.content.decode()
    assert response.status_code == 400 and not Ticket.objects.exists()
    assert field_error(html, "id_subject") == "Give the ticket a subject."
    assert "not-an-address" in field_error(html, "id_collaborators")
    assert textarea_value(html, "id_message") == "Ken phoned: the payroll printer prints blank pages."
    assert textarea_value(html, "id_internal_note") == "Keep me"
    assert f'name="requester" value="{desk.ken.pk}"' in html
    assert 'value="Ken Adams &lt;ken@example.com&gt;"' in html
    assert "Chosen: Ken Adams &lt;ken@example.com&gt;" in html
    assert re.search(r'<option value="phone" selected>', html)


def test_no_person_at_all_is_explained_at_the_lookup_box(john, desk):
    response = john.post(NEW, form_data(desk, requester=None, requester_search="Ken"))
    assert response.status_code == 400
    assert "Choose the person from the list" in field_error(response.content.decode(), "id_requester_search")


# ---------------------------------------------------------------------------- hostile


def test_an_agents_id_as_requester_is_refused_and_nothing_is_made(john, desk):
    response = john.post(NEW, form_data(desk, requester=desk.jane.user.pk))
    assert response.status_code == 400 and not Ticket.objects.exists()
    assert "works on the help desk" in field_error(response.content.decode(), "id_requester_search")


def test_an_agents_address_as_a_new_person_is_refused(john, desk):
    data = form_data(desk, requester=None, requester_search="", requester_email="john@example.com")
    response = john.post(NEW, data)
    assert response.status_code == 400 and not Ticket.objects.exists()
    assert "help desk staff" in field_error(response.content.decode(), "id_requester_email")


def test_a_requester_id_that_names_nobody_is_refused(john, desk):
    response = john.post(NEW, form_data(desk, requester=987654))
    assert response.status_code == 400 and not Ticket.objects.exists()


def test_a_department_john_cannot_use_is_refused(john, desk):
    response = john.post(NEW, form_data(desk, department=desk.billing.pk))
    assert response.status_code == 400 and not Ticket.objects.exists()
    assert field_error(response.content.decode(), "id_department") == "Choose one of the departments listed."


def test_a_topic_of_a_department_john_cannot_use_is_refused(john, desk):
    response = john.post(NEW, form_data(desk, topic=desk.outage.pk))
    assert response.status_code == 400 and not Ticket.objects.exists()
    assert "System Administration" in field_error(response.content.decode(), "id_topic")


def test_an_assignee_the_department_does_not_allow_is_refused(john, desk):
    desk.support.assign_members_only = True
    desk.support.save()
    response = john.post(NEW, form_data(desk, assignee=desk.bill.pk))
    assert response.status_code == 400 and not Ticket.objects.exists()
    assert field_error(response.content.decode(), "id_assignee") == "Choose one of the agents listed."


def test_an_observer_is_not_offered_assignment_and_cannot_force_it(client, desk):
    client.force_login(desk.olga.user)
    html = client.get(NEW).content.decode()
    assert 'name="assignee"' not in html and 'name="priority"' not in html and 'name="internal_note"' in html
    response = client.post(NEW, form_data(desk, assignee=desk.john.pk))
    ticket = Ticket.objects.get()  # the unknown field is ignored: nobody is assigned
    assert response.status_code == 302 and ticket.assignee is None


def test_end_users_and_visitors_are_kept_out(client, desk):
    assert client.get(NEW).status_code == 302
    assert client.get(LOOKUP + "?q=ken").status_code == 302
    client.force_login(desk.ken)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form_data(desk)).status_code == 403
    assert client.get(LOOKUP + "?q=ken").status_code == 403
    assert not Ticket.objects.exists()


def test_the_form_needs_its_csrf_token(desk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(desk.john.user)
    html = client.get(NEW).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert client.post(NEW, form_data(desk)).status_code == 403
    assert not Ticket.objects.exists()
    assert client.post(NEW, {**form_data(desk), "csrfmiddlewaretoken": token}).status_code == 302


# ---------------------------------------------------------------------------- the people lookup


def test_the_lookup_finds_people_by_the_start_of_name_surname_address_or_organisation(john, desk):
    acme = Organization.objects.create(name="Acme Widgets")
    User.objects.create_user("rosa@acme.example", name="Rosa Diaz", organization=acme)
    User.objects.create_user("zed@example.com", name="Zed Acker")

    def names(q):
        html = john.get(LOOKUP, {"q": q}).content.decode()
        return re.findall(r'<span class="person-name">([^<]*)</span>', html)

    assert names("ken") == ["Ken Adams"]
    assert names("KEN@EX") == ["Ken Adams"]
    assert names("acme wid") == ["Rosa Diaz"]
    assert names("adams") == ["Ken Adams"]  # the surname: the rest of the name after the first word
    assert names("ac") == ["Zed Acker", "Rosa Diaz"]  # names first, then organisations
    assert (
        names("john") == [] and names("doe") == [] and names("ada admin") == []
    )  # agents and administrators are not requesters


def test_the_lookup_gives_at_most_ten(john, desk):
    for n in range(15):
        User.objects.create_user(f"sam{n}@example.com", name=f"Sam {n:02d}")
    html = john.get(LOOKUP, {"q": "sam"}).content.decode()
    assert html.count('role="option"') == 10


def test_the_lookup_escapes_a_hostile_name(john, desk):
    User.objects.create_user("evil@example.com", name='<img src=x onerror="alert(1)">Eve')
    html = john.get(LOOKUP, {"q": "<img"}).content.decode()
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Eve" in html


def test_the_lookup_says_when_nobody_matches(john, desk):
    html = john.get(LOOKUP, {"q": "nobody-here"}).content.decode()
    assert 'aria-disabled="true"' in html and "nobody-here" in html
    assert john.get(LOOKUP, {"q": "  "}).content.decode().strip() == ""


def test_a_ticket_a_rule_sends_out_of_johns_sight_opens_and_he_is_told_where_it_went(john, desk):
    from tessera.rules.models import Action, Condition, Rule

    rule = Rule.objects.create(name="servers", match="all")
    Condition.objects.create(rule=rule, field="subject", operator="contains", value="server")
    Action.objects.create(rule=rule, kind="department", department=desk.sysadmin)
    response = john.post(NEW, form_data(desk, subject="The server is down"))
    ticket = Ticket.objects.get()
    assert ticket.department == desk.sysadmin
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert flashes(response) == [
        f"Ticket #{ticket.number} is open. A routing rule sent it to System Administration, which you cannot see."
    ]


def test_a_rejecting_rule_is_explained_on_the_form_which_keeps_what_was_typed(john, desk):
    from tessera.rules.models import Action, Condition, Rule

    rule = Rule.objects.create(name="no lottery", match="all")
    Condition.objects.create(rule=rule, field="subject", operator="contains", value="lottery")
    Action.objects.create(rule=rule, kind="reject", text="We do not take these.")
    response = john.post(NEW, form_data(desk, subject="You won the lottery"))
    html = response.content.decode()
    assert response.status_code == 400 and not Ticket.objects.exists()
    assert "A routing rule refused this ticket, so nothing was saved" in html
    assert 'value="You won the lottery"' in html
