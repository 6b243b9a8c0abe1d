"""POST /api/tickets.xml: osTicket's documented sample, attributes or child elements,
<phone ext>, <message type>, <attachments><file …>, and XML errors."""

from __future__ import annotations

import pytest

from tessera.tickets.models import Attachment, Event, EventKind, Ticket

from .osticket_client import number, ost_fixture, ost_key_fixture  # noqa: F401  (fixtures)

SAMPLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<ticket alert="true" autorespond="true" source="API">
    <name>Angry User</name>
    <email>api@example.net</email>
    <subject>Testing API</subject>
    <phone>318-555-8634X123</phone>
    <message type="text/plain"><![CDATA[Message content here]]></message>
    <attachments>
        <file name="file.txt" type="text/plain"><![CDATA[
            File content is here and is automatically trimmed
        ]]></file>
        <file name="image.gif" type="image/gif" encoding="base64">
            R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7
        </file>
    </attachments>
    <ip>123.211.233.122</ip>
</ticket>"""


def xml(ost, body: bytes, **kwargs):
    return ost.post("/api/tickets.xml", body, content_type="application/xml", **kwargs)


def test_the_documented_sample_opens_a_ticket_with_both_files(ost, desk):
    ticket = Ticket.objects.get(number=number(xml(ost, SAMPLE)))
    assert (ticket.subject, ticket.user.email, ticket.user.name) == ("Testing API", "api@example.net", "Angry User")
    entry = ticket.entries.get()
    assert entry.body_text == "Message content here"
    files = {a.name: a for a in Attachment.objects.filter(entry=entry)}
    assert files["file.txt"].file.read() == b"File content is here and is automatically trimmed"
    assert files["image.gif"].file.read().startswith(b"GIF89a")
    details = Event.objects.get(ticket=ticket, kind=EventKind.INTAKE_DETAILS)
    assert details.data["phone"] == "318-555-8634X123" and details.data["address"] == "123.211.233.122"


def test_values_as_attributes_of_ticket_and_the_phone_extension_attribute(ost, desk):
    body = (
        b'<ticket name="Attr User" email="attr@example.net" subject="By attributes" priority="%d">'
        b'<phone ext="42">555 0100</phone><message type="text/html">&lt;p&gt;Escaped &lt;b&gt;html&lt;/b&gt;&lt;/p&gt;'
        b"</message></ticket>" % desk.sev_a.pk
    )
    ticket = Ticket.objects.get(number=number(xml(ost, body)))
    assert (ticket.subject, ticket.priority) == ("By attributes", desk.sev_a)
    assert "<b>html</b>" in ticket.entries.get().body_html
    assert Event.objects.get(ticket=ticket, kind=EventKind.INTAKE_DETAILS).data["phone"] == "555 0100X42"


def test_an_html_message_in_cdata_and_a_base64_message(ost, desk):
    body = (
        b"<ticket><name>N</name><email>n@example.net</email><subject>S</subject>"
        b'<message type="text/html"><![CDATA[<p>Hello <i>world</i></p>]]></message></ticket>'
    )
    assert "<i>world</i>" in Ticket.objects.get(number=number(xml(ost, body))).entries.get().body_html
    body = (
        b"<ticket><name>N</name><email>n@example.net</email><subject>S</subject>"
        b'<message encoding="base64">SGVsbG8gZnJvbSBiYXNlNjQ=</message></ticket>'
    )
    assert Ticket.objects.get(number=number(xml(ost, body))).entries.get().body_text == "Hello from base64"


def test_the_http_php_form(ost, desk):
    assert number(ost.post("/api/http.php/tickets.xml", SAMPLE, content_type="text/xml"))


@pytest.mark.parametrize(
    ("body", "starts"),
    [
        (b"<ticket><name>x</ticket>", b"XML error: mismatched tag at line 1:"),
        (b"", b"XML error: no element found at line 1:"),
        (b'{"name": "json to xml"}', b"XML error: not well-formed (invalid token) at line 1:"),
        (b"<ticket><x>&nope;</x></ticket>", b"XML error: undefined entity at line 1:"),
    ],
)
def test_malformed_xml_answers_400_with_the_parser_position(ost, desk, body, starts):
    response = xml(ost, body)
    assert response.status_code == 400 and response.content.startswith(starts), response.content
    assert not Ticket.objects.exists()


def test_missing_fields_answer_in_osticket_format(ost, desk):
    response = xml(ost, b"<ticket><email>a@example.net</email><name>A</name></ticket>")
    assert response.status_code == 400
    assert response.content == (
        b"Unable to create new ticket :subject\nIssue Summary is a required field\n"
        b"message\nIssue Details is a required field"
    )
