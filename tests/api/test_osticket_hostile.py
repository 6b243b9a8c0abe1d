"""Hostile input to the osTicket endpoints: XML bombs and external entities, bodies too deep or
too large, header injection through field names, floods of unknown fields. Each is refused or
bounded, never a 500, and a refused request leaves nothing behind."""

from __future__ import annotations

import json

import pytest

from tessera.accounts.models import User
from tessera.mail.models import InboundMessage
from tessera.tickets.models import Event, EventKind, Ticket

from .osticket_client import MINIMAL, number, ost_fixture, ost_key_fixture  # noqa: F401  (fixtures)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ticket><name>Bomb</name><email>bomb@example.net</email><subject>&lol9;</subject><message>&lol9;</message></ticket>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE ticket [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<ticket><name>X</name><email>xxe@example.net</email><subject>XXE</subject><message>&secret;</message></ticket>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE ticket [<!ENTITY % remote SYSTEM "http://127.0.0.1:1/evil.dtd"> %remote;]>
<ticket><name>X</name><email>p@example.net</email><subject>S</subject><message>M</message></ticket>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE ticket SYSTEM "http://127.0.0.1:1/ticket.dtd">
<ticket><name>X</name><email>d@example.net</email><subject>S</subject><message>M</message></ticket>"""


def nothing_created() -> bool:
    return not (
        Ticket.objects.exists()
        or User.objects.filter(email__endswith="@example.net").exists()
        or InboundMessage.objects.exists()
    )


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY, EXTERNAL_DTD])
def test_doctype_and_entities_are_refused_before_anything_is_expanded_or_stored(ost, desk, body):
    response = ost.post("/api/tickets.xml", body, content_type="application/xml")
    assert response.status_code == 400
    assert response.content.startswith(b"XML error: DOCTYPE and ENTITY declarations are not accepted at line ")
    assert b"root:" not in response.content
    assert nothing_created()


def test_xml_nested_too_deep_or_with_too_many_elements_is_refused(ost, desk):
    deep = b"<ticket>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</ticket>"
    wide = b"<ticket>" + b"<a/>" * 20_000 + b"</ticket>"
    for body in (deep, wide):
        response = ost.post("/api/tickets.xml", body, content_type="application/xml")
        assert response.status_code == 400 and b"too deep or has too many elements" in response.content
    assert nothing_created()


def test_a_body_over_the_limit_is_refused_with_413(ost, desk, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_ATTACHMENT_BYTES": 1024}
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = {**MINIMAL, "attachments": [{"big.txt": "data:text/plain," + "x" * (3 * 1024 * 1024)}]}
    response = ost.json(body)
    assert response.status_code == 413
    assert nothing_created()


def test_a_body_over_djangos_form_limit_but_within_ours_still_opens_the_ticket(ost, desk, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = {**MINIMAL, "attachments": [{"notes.txt": "data:text/plain," + "y" * 50_000}]}
    assert number(ost.json(body))


def test_field_names_cannot_inject_headers(ost, desk):
    evil = "x\r\nSet-Cookie: stolen=1\r\nX-Injected: yes"
    response = ost.json({**MINIMAL, evil: "v\r\nalso", "caf\u00e9\u2028name": "v"})
    ticket = Ticket.objects.get(number=number(response))
    header = response["X-Tessera-Warnings"]
    assert "\r" not in header and "\n" not in header and "\u2028" not in header
    assert header.isascii() and "stolen" in header  # kept as text, on the one line
    assert "X-Injected" not in response and not response.cookies
    assert Event.objects.filter(ticket=ticket, kind=EventKind.INTAKE_WARNING).count() == 2


def test_a_flood_of_unknown_fields_is_bounded_on_the_ticket_and_in_the_header(ost, desk):
    body = {**MINIMAL, **{f"custom_{i}_" + "z" * 300: "v" * 1000 for i in range(500)}}
    response = ost.json(body)
    ticket = Ticket.objects.get(number=number(response))
    events = Event.objects.filter(ticket=ticket, kind=EventKind.INTAKE_WARNING)
    assert events.count() == 20
    assert events.filter(before="request", after="481 more problems not listed").exists()
    assert len(response["X-Tessera-Warnings"]) <= 2000


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({**MINIMAL, "attachments": "data:,not a list"}),
        json.dumps({**MINIMAL, "attachments": [1, None, [], {"a.txt": 5}]}),
        json.dumps({**MINIMAL, "message": {"nested": True}, "subject": ["x"]}),
        json.dumps({**MINIMAL, "topicId": "1e9999", "priority": "9" * 50, "priorityId": None}),
        json.dumps({**MINIMAL, "message": "data:text/plain;charset=no-such-charset;base64,SGk="}),
        json.dumps({**MINIMAL, "message": "data:text/html"}),
        json.dumps({**MINIMAL, "email": "a@b\r\nBcc: victim@example.org"}),
        json.dumps({**MINIMAL, "subject": "=?utf-8?q?Re=3A_hi=0D=0ABcc=3A_x=40y=2Ez?="}),
        '{"email": "\\ud800@example.net"}',
    ],
)
def test_odd_shapes_never_answer_500(ost, desk, body):
    response = ost.json(body)
    assert response.status_code in (201, 400), (response.status_code, response.content)


def test_an_encoded_subject_with_a_line_break_stays_on_one_line(ost, desk):
    ticket_number = number(ost.json({**MINIMAL, "subject": "Hello\r\nBcc: victim@example.org"}))
    assert "\n" not in Ticket.objects.get(number=ticket_number).subject


def test_lone_surrogates_and_nul_characters_are_stored_harmlessly(ost, desk):
    body = (
        '{"name": "Nul\\u0000Name\\ud800", "email": "nul@example.net", "subject": "Sub\\u0000ject \\udfff",'
        ' "message": "Body \\ud800 with\\u0000 NUL", "x\\ud800": "y",'
        ' "attachments": [{"f\\ud800.txt": "data:,a\\u0000b"}]}'
    )
    ticket = Ticket.objects.get(number=number(ost.json(body)))
    assert "\x00" not in ticket.subject and "\ufffd" in ticket.subject
    assert "\x00" not in ticket.entries.get().body_text


def test_nul_in_a_base64_message_is_dropped(ost, desk):
    ticket = Ticket.objects.get(number=number(ost.json({**MINIMAL, "message": "data:text/plain;base64,SGkASGk="})))
    assert ticket.entries.get().body_text == "HiHi"


def test_a_key_cannot_open_a_ticket_as_a_member_of_staff(ost, desk):
    for address in ("admin@example.com", "john@example.com"):
        response = ost.json({"name": "Ada", "email": address, "subject": "Reset all passwords", "message": "Please."})
        assert response.status_code == 400
        assert response.content.decode().startswith("Unable to create new ticket")
    assert not Ticket.objects.filter(subject="Reset all passwords").exists()
