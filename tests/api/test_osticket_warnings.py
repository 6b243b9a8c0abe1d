"""Where osTicket drops data without a word, Tessera opens the ticket (clients expect 201) but
records each problem on it and lists it in X-Tessera-Warnings (osticket-live.md §2.1, §2.3)."""

from __future__ import annotations

import base64

import pytest

from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import Attachment, Event, EventKind, Ticket

from .osticket_client import MINIMAL, number, ost_fixture, ost_key_fixture  # noqa: F401  (fixtures)


def warned(ticket: Ticket) -> dict[str, str]:
    return dict(Event.objects.filter(ticket=ticket, kind=EventKind.INTAKE_WARNING).values_list("before", "after"))


def test_an_unknown_topic_goes_to_the_default_department_with_a_warning(ost, desk):
    response = ost.json({**MINIMAL, "topicId": 9999})
    ticket = Ticket.objects.get(number=number(response))
    assert ticket.topic is None and ticket.department == desk.support
    assert "no active help topic 9999" in warned(ticket)["topicId"]
    assert response["X-Tessera-Warnings"].startswith("topicId: no active help topic 9999")


def test_an_inactive_topic_is_not_used(ost, desk):
    desk.outage.is_active = False
    desk.outage.save()
    ticket = Ticket.objects.get(number=number(ost.json({**MINIMAL, "topicId": desk.outage.pk})))
    assert ticket.topic is None and "topicId" in warned(ticket)


@pytest.mark.parametrize(("field", "value"), [("priority", 99), ("priority", "high"), ("priorityId", "0")])
def test_an_unknown_priority_keeps_the_default_with_a_warning(ost, desk, field, value):
    response = ost.json({**MINIMAL, field: value})
    ticket = Ticket.objects.get(number=number(response))
    assert ticket.priority.is_default or ticket.priority == desk.general.default_priority
    assert f"no priority “{value}”" in warned(ticket)[field]
    assert field in response["X-Tessera-Warnings"]


def test_invalid_base64_is_not_stored_as_garbage(ost, desk):
    body = {**MINIMAL, "attachments": [{"bad.bin": "data:application/octet-stream;base64,!!!notbase64!!!"}]}
    response = ost.json(body)
    ticket = Ticket.objects.get(number=number(response))
    assert not Attachment.objects.exists()
    assert "“bad.bin” was not kept: the base64 content does not decode" in warned(ticket)["attachments"]
    assert "bad.bin" in response["X-Tessera-Warnings"]


def test_an_attachment_over_the_size_limit_is_named_not_dropped_silently(ost, desk, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_ATTACHMENT_BYTES": 1024}
    big = base64.b64encode(b"x" * 3000).decode()
    body = {**MINIMAL, "attachments": [{"big.txt": f"data:text/plain;base64,{big}"}, {"ok.txt": "data:,fine"}]}
    response = ost.json(body)
    ticket = Ticket.objects.get(number=number(response))
    assert list(Attachment.objects.values_list("name", flat=True)) == ["ok.txt"]
    assert "“big.txt” was not kept" in warned(ticket)["attachments"] and "limit" in warned(ticket)["attachments"]


def test_a_blocked_type_and_a_program_are_refused_with_warnings(ost, desk):
    program = b"MZ" + b"\0" * 58 + (64).to_bytes(4, "little") + b"PE\0\0" + b"\0" * 64
    body = {
        **MINIMAL,
        "attachments": [
            {"evil.exe": "data:application/x-msdownload;base64," + base64.b64encode(b"MZ...").decode()},
            {"invoice.pdf": "data:application/pdf;base64," + base64.b64encode(program).decode()},
        ],
    }
    response = ost.json(body)
    ticket = Ticket.objects.get(number=number(response))
    assert not Attachment.objects.exists()
    problems = list(Event.objects.filter(ticket=ticket, kind=EventKind.INTAKE_WARNING).values_list("after", flat=True))
    assert any("evil.exe" in p and ".exe" in p for p in problems)
    assert any("invoice.pdf" in p and "program" in p for p in problems)


def test_custom_fields_are_recorded_as_unknown_with_their_value(ost, desk):
    response = ost.json({**MINIMAL, "contract": "ACME-42", "notes": "VIP"})
    ticket = Ticket.objects.get(number=number(response))
    assert "unknown field" in warned(ticket)["contract"] and "ACME-42" in warned(ticket)["contract"]
    assert "notes" in warned(ticket)
    assert "contract: unknown field" in response["X-Tessera-Warnings"]


def test_a_warning_reads_as_a_sentence_on_the_timeline(ost, desk):
    ticket = Ticket.objects.get(number=number(ost.json({**MINIMAL, "topicId": 9999})))
    event = Event.objects.get(ticket=ticket, kind=EventKind.INTAKE_WARNING)
    assert event_sentence(event).startswith("Not used from the request (topicId): no active help topic 9999")
    assert event.actor is None and event.data["via"] == "API key “osTicket bridge”"


def test_other_problems_are_warned_too(ost, desk):
    response = ost.json({**MINIMAL, "ip": "not-an-ip", "alert": "maybe", "source": "Web", "phone": {"n": 1}})
    ticket = Ticket.objects.get(number=number(response))
    assert set(warned(ticket)) == {"ip", "alert", "source", "phone"}


def test_a_clean_request_has_no_warnings_header(ost, desk):
    assert "X-Tessera-Warnings" not in ost.json(MINIMAL)


def test_the_message_with_bad_base64_is_kept_as_sent_with_a_warning(ost, desk):
    response = ost.json({**MINIMAL, "message": "data:text/plain;base64,@@@"})
    ticket = Ticket.objects.get(number=number(response))
    assert "@@@" in ticket.entries.get().body_text and "message" in warned(ticket)
