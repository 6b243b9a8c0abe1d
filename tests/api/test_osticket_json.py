"""POST /api/tickets.json: every field osTicket accepts, answered as osticket-live.md §2.1 saw."""

from __future__ import annotations

import pytest

from tessera.accounts.models import User
from tessera.tickets.models import Attachment, Event, EventKind, Source, Ticket

from .osticket_client import FULL, MINIMAL, number, ost_fixture, ost_key_fixture  # noqa: F401  (fixtures)


def test_the_full_sample_opens_a_ticket_and_answers_its_bare_number(ost, desk):
    response = ost.json({**FULL, "topicId": desk.outage.pk, "priority": desk.sev_a.pk})
    ticket = Ticket.objects.get(number=number(response))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == str(ticket.number).encode()  # no newline, no JSON
    assert (ticket.topic, ticket.department, ticket.priority) == (desk.outage, desk.sysadmin, desk.sev_a)
    assert ticket.source == Source.API and ticket.subject == "Testing API"
    assert ticket.user.email == "api@example.net" and ticket.user.name == "Angry User"
    entry = ticket.entries.get()
    assert "<b>HERE</b>" in entry.body_html and entry.body_text.startswith("MESSAGE")
    files = {a.name: a for a in Attachment.objects.filter(entry=entry)}
    assert set(files) == {"file.txt", "image.png"}
    assert files["file.txt"].file.read() == b"content of file" and files["image.png"].size == 70
    assert "X-Tessera-Warnings" not in response


def test_the_phone_with_its_extension_and_the_ip_are_kept_on_the_timeline(ost, desk):
    ticket = Ticket.objects.get(number=number(ost.json(FULL)))
    details = Event.objects.get(ticket=ticket, kind=EventKind.INTAKE_DETAILS)
    assert details.data["phone"] == "3185558634X123" and details.data["address"] == "123.211.233.122"
    assert "API key “osTicket bridge”" in details.data["via"]
    assert ticket.user.phone == "3185558634X123"  # a new requester keeps the number, as osTicket's user form


def test_the_minimal_body_opens_a_ticket_with_the_default_priority(ost, desk):
    ticket = Ticket.objects.get(number=number(ost.json(MINIMAL)))
    assert ticket.entries.get().body_text == "Just text."
    assert ticket.priority.is_default or ticket.priority == desk.general.default_priority
    assert not Event.objects.filter(ticket=ticket, kind__in=[EventKind.INTAKE_WARNING, EventKind.INTAKE_DETAILS])


def test_every_event_names_the_key_as_the_channel_and_the_requester_opened_it(ost, desk):
    ticket = Ticket.objects.get(number=number(ost.json(MINIMAL)))
    created = Event.objects.get(ticket=ticket, kind=EventKind.CREATED)
    assert created.actor == ticket.user and created.data["via"] == "API key “osTicket bridge”"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_the_content_type_is_ignored_the_extension_decides(ost, desk, content_type):
    assert number(ost.json(MINIMAL, content_type=content_type))


def test_the_form_without_url_rewriting_works_too(ost, desk):
    assert number(ost.post("/api/http.php/tickets.json", MINIMAL))


def test_a_missing_name_is_fine_when_the_address_is_known(ost, desk):
    ticket = Ticket.objects.get(number=number(ost.json({**MINIMAL, "name": "", "email": "KEN@example.com"})))
    assert ticket.user == desk.ken


def test_topic_id_and_priority_may_be_strings_and_priority_id_and_names_work(ost, desk):
    ticket = Ticket.objects.get(number=number(ost.json({**MINIMAL, "topicId": str(desk.internal.pk)})))
    assert ticket.topic == desk.internal  # not public on the portal, but the key's administrator allowed it
    ticket = Ticket.objects.get(number=number(ost.json({**MINIMAL, "priorityId": desk.sev_b.pk})))
    assert ticket.priority == desk.sev_b
    ticket = Ticket.objects.get(number=number(ost.json({**MINIMAL, "priority": desk.sev_d.name.upper()})))
    assert ticket.priority == desk.sev_d


@pytest.mark.parametrize(
    ("message", "html", "text"),
    [
        ("data:text/plain,Plain <b>kept</b> as text", False, "Plain <b>kept</b> as text"),
        ("data:text/plain;charset=utf-8,Caf\u00e9", False, "Caf\u00e9"),
        ("data:text/html;charset=utf-8,<p>Hello <i>there</i></p>", True, "Hello there"),
        ("data:text/plain;base64,SGVsbG8gYmFzZTY0", False, "Hello base64"),
        ("data:text/plain;charset=iso-8859-1;base64,Q2Fm6Q==", False, "Caf\u00e9"),
        ("data:text/html;charset=utf-8;base64,PHA+SMOpbGxvPC9wPg==", True, "H\u00e9llo"),
        ("data:;base64,SGk=", False, "Hi"),
    ],
)
def test_the_message_as_a_data_url_in_every_form(ost, desk, message, html, text):
    entry = Ticket.objects.get(number=number(ost.json({**MINIMAL, "message": message}))).entries.get()
    assert entry.body_text.strip() == text
    if html:
        assert "<p>" in entry.body_html


def test_script_in_an_html_message_is_removed(ost, desk):
    body = {**MINIMAL, "message": "data:text/html,<p>Hi</p><script>alert(1)</script><img src=x onerror=alert(2)>"}
    entry = Ticket.objects.get(number=number(ost.json(body))).entries.get()
    assert "<script" not in entry.body_html and "onerror" not in entry.body_html


def test_alert_false_and_autorespond_false_send_nothing(ost, desk, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        number(ost.json({**MINIMAL, "alert": False, "autorespond": "false"}))
    assert not mailoutbox


def test_autorespond_false_still_alerts_agents(ost, desk, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        number(ost.json({**MINIMAL, "autorespond": False}))
    assert not [m for m in mailoutbox if m.to == ["mini@example.net"]]
    assert [m for m in mailoutbox if m.to == ["john@example.com"]]


def test_by_default_the_requester_is_acknowledged_and_agents_alerted(
    ost, desk, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        number(ost.json(MINIMAL))
    assert [m for m in mailoutbox if m.to == ["mini@example.net"]]
    assert [m for m in mailoutbox if m.to == ["john@example.com"]]


def test_alert_false_still_acknowledges_the_requester(ost, desk, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        number(ost.json({**MINIMAL, "alert": 0}))
    assert [m for m in mailoutbox if m.to == ["mini@example.net"]]
    assert not [m for m in mailoutbox if m.to == ["john@example.com"]]


def test_source_phone_is_kept(ost, desk):
    assert Ticket.objects.get(number=number(ost.json({**MINIMAL, "source": "Phone"}))).source == Source.PHONE


def test_a_new_requester_is_created_once(ost, desk):
    number(ost.json(MINIMAL))
    number(ost.json({**MINIMAL, "email": "MINI@example.net"}))
    assert User.objects.filter(email="mini@example.net").count() == 1
