"""POST /api/tickets.email: the raw message goes through the mail pipeline (osticket-live.md
§3): a new ticket, the same number for the same Message-ID, threading by In-Reply-To and by
the subject's ticket number, and the refusals."""

from __future__ import annotations

from email.message import EmailMessage

from tessera.mail.models import InboundMessage
from tessera.tickets.models import EntryKind, Event, EventKind, Source, Ticket

from .osticket_client import number, ost_fixture, ost_key_fixture  # noqa: F401  (fixtures)


def message(
    *, mid: str, subject: str = "Printer on fire", sender: str = "Mail User <mail.user@example.net>", **headers
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = mid
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("The printer is on fire.\n")
    return msg.as_bytes()


def email(ost, raw: bytes, **kwargs):
    return ost.post("/api/tickets.email", raw, content_type="message/rfc822", **kwargs)


def test_a_new_email_opens_a_ticket_and_answers_its_number(ost, desk):
    response = email(ost, message(mid="<lab-orig-0001@example.net>"))
    ticket = Ticket.objects.get(number=number(response))
    assert ticket.source == Source.EMAIL and ticket.user.email == "mail.user@example.net"
    assert ticket.department == desk.support  # the address it was sent to, as with any mail
    created = Event.objects.get(ticket=ticket, kind=EventKind.CREATED)
    assert created.data["via"] == "API key “osTicket bridge”"
    assert InboundMessage.objects.get().channel == "api"


def test_the_same_message_posted_again_answers_the_same_number_and_adds_nothing(ost, desk):
    raw = message(mid="<lab-orig-0001@example.net>")
    first = number(email(ost, raw))
    assert number(email(ost, raw)) == first
    assert Ticket.objects.count() == 1 and Ticket.objects.get().entries.count() == 1


def test_a_reply_threads_into_the_ticket_by_in_reply_to(ost, desk):
    first = number(email(ost, message(mid="<lab-orig-0001@example.net>")))
    reply = message(
        mid="<lab-reply-0002@example.net>",
        subject="Re: Printer on fire",
        In_Reply_To="<lab-orig-0001@example.net>",
        References="<lab-orig-0001@example.net>",
    )
    assert number(email(ost, reply)) == first
    ticket = Ticket.objects.get()
    assert list(ticket.entries.values_list("kind", flat=True)) == [EntryKind.MESSAGE, EntryKind.MESSAGE]


def test_a_reply_threads_by_the_ticket_number_in_the_subject(ost, desk):
    first = number(email(ost, message(mid="<lab-orig-0001@example.net>")))
    reply = message(mid="<lab-reply-0003@example.net>", subject=f"Re: [#{first}] Printer on fire")
    assert number(email(ost, reply)) == first
    assert Ticket.objects.count() == 1


def test_text_that_is_not_an_email_and_an_empty_body_are_refused(ost, desk):
    for body in (b"this is not an email at all", b"", b"   \r\n"):
        response = email(ost, body)
        assert response.status_code == 400
        assert response.content == b"Unable to create new ticket :user\nIncomplete client information"
    assert not Ticket.objects.exists()


def test_a_bad_key_is_refused_before_the_message_is_kept(ost, desk):
    response = email(ost, message(mid="<x@example.net>"), key="tsk_wrong")
    assert (response.status_code, response.content) == (401, b"Valid API key required")
    assert not InboundMessage.objects.exists()


def test_a_mail_loop_is_refused_with_403(ost, desk):
    response = email(ost, message(mid="<loop@example.net>", sender="Support <support@example.com>"))
    assert response.status_code == 403
    assert response.content.startswith(b"Unable to create new ticket :Ticket denied: support@example.com\n\n")
    assert not Ticket.objects.exists()
