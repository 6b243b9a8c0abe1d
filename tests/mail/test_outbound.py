"""Outbound mail as recipients and agents notice it: every notification is a Delivery with the
Message-ID the recipient got, threaded under what they last saw, from and answerable to the
ticket's department, retried when the server is down, and shown to agents when it never went out.

Real SMTP throughout: Django's SMTP backend talking to aiosmtpd on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from email.utils import parseaddr
from io import StringIO

import pytest

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tessera.accounts.models import User
from tessera.mail import outbound
from tessera.mail.models import Channel, Delivery, InboundMessage, InboundStatus, Mailbox
from tessera.tickets import services
from tessera.tickets.models import EventKind, HelpTopic, Ticket

from ..conftest import SmtpSink, smtp_peer

KEN, KIM, JOHN, OLGA = "ken@example.com", "kim@example.com", "john@example.com", "olga@example.com"
MARKER = "-- Reply above this line --"


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.TESSERA = {
        **settings.TESSERA,
        "REPLY_MARKER": MARKER,
        "MAIL_DELIVERY_ATTEMPTS": 3,
        "MAIL_RETRY_SECONDS": 60,
    }


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service call as if its transaction had committed, so its notifications go out."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def kim(desk):
    return User.objects.create_user(KIM, desk.password, name="Kim Lee")


@pytest.fixture
def opened(desk, smtp, committed):
    """Ken's ticket, opened with notifications running; the sink is then emptied."""
    ticket = committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Printer jams", message="Hi", topic=desk.general
    )
    smtp.envelopes.clear()
    return ticket


class Flaky(SmtpSink):
    """A mail server that answers 451 (try again later) or 550 (never) until told to accept."""

    answer: str | None = "451 4.3.0 Mail server temporarily rejected message"

    async def handle_DATA(self, server, session, envelope):
        if self.answer:
            return self.answer
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def flaky(settings):
    with smtp_peer(Flaky(), settings) as sink:
        yield sink


def text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def received_from(ticket, sender: str, message_id: str, minutes_ago: int = 0) -> InboundMessage:
    """Mail the desk received about the ticket, as ingest stores it."""
    raw = f"From: {sender}\r\nMessage-ID: <{message_id}>\r\nSubject: Re: x\r\n\r\nThanks\r\n".encode()
    return InboundMessage.objects.create(
        dedupe_key=f"mid:{message_id}",
        message_id=message_id,
        sha256=hashlib.sha256(raw).hexdigest(),
        raw=raw,
        size=len(raw),
        channel=Channel.PIPE,
        sender=sender,
        ticket=ticket,
        status=InboundStatus.REPLY,
        received_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def retry_mail() -> str:
    out = StringIO()
    call_command("retry_mail", stdout=out)
    return out.getvalue()


def due_now(ticket) -> None:
    """The retry wait is over (time passes; the test does not sleep for minutes)."""
    Delivery.objects.filter(ticket=ticket, status="queued").update(next_attempt_at=timezone.now())


# ---------------------------------------------------------------------------- what was sent, and its record


def test_each_recipient_gets_their_own_message_recorded_with_the_message_id_they_received(
    desk, opened, kim, smtp, committed
):
    services.add_collaborator(desk.john.user, opened, user=kim)
    entry = committed(services.reply, desk.john.user, opened, message="Try tray 2.")

    rows = Delivery.objects.filter(ticket=opened, notice="response").order_by("recipient")
    assert [(d.recipient, d.status, d.attempts, d.entry_id) for d in rows] == [
        (KEN, "sent", 1, entry.pk),
        (KIM, "sent", 1, entry.pk),
    ]
    for delivery in rows:
        [message] = smtp.to(delivery.recipient)
        assert message["Message-ID"] == f"<{delivery.message_id}>"
        assert delivery.sent_at is not None and delivery.user.email == delivery.recipient
    assert len({d.message_id for d in rows}) == 2


def test_replies_thread_under_the_last_message_the_recipient_got(desk, opened, smtp, committed):
    ack = Delivery.objects.get(ticket=opened, notice="new_ticket")
    root = f"<ticket-{opened.number}@localhost>"

    committed(services.reply, desk.john.user, opened, message="First.")
    committed(services.reply, desk.john.user, Ticket.objects.get(pk=opened.pk), message="Second.")

    first, second = smtp.to(KEN)
    assert first["In-Reply-To"] == f"<{ack.message_id}>"
    assert first["References"].split() == [root, f"<{ack.message_id}>"]
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["References"].split() == [root, f"<{ack.message_id}>", first["Message-ID"]]


def test_an_answer_to_kens_email_replies_to_what_he_wrote(desk, opened, smtp, committed):
    ack = Delivery.objects.get(ticket=opened, notice="new_ticket")
    received_from(opened, KEN, "CAF=ken.reply.1@mail.example.com")

    committed(services.reply, desk.john.user, opened, message="Glad it works.")

    [answer] = smtp.to(KEN)
    assert answer["In-Reply-To"] == "<CAF=ken.reply.1@mail.example.com>"
    refs = answer["References"].split()
    assert refs[0] == f"<ticket-{opened.number}@localhost>"
    assert refs[1:] == [f"<{ack.message_id}>", "<CAF=ken.reply.1@mail.example.com>"]


def test_a_long_conversation_keeps_references_short(desk, opened, smtp, committed):
    ack = Delivery.objects.get(ticket=opened, notice="new_ticket")
    for n in range(14):
        received_from(opened, KEN, f"ken-{n}@mail.example.com", minutes_ago=100 - n)

    committed(services.reply, desk.john.user, opened, message="Summary.")

    [answer] = smtp.to(KEN)
    refs = answer["References"].split()
    assert len(refs) == 10
    assert refs[0] == f"<ticket-{opened.number}@localhost>"
    assert answer["In-Reply-To"] == "<ken-13@mail.example.com>"
    # The newest, oldest first: Ken's last eight messages, then the acknowledgement he got just now.
    assert refs[1:] == [f"<ken-{n}@mail.example.com>" for n in range(6, 14)] + [f"<{ack.message_id}>"]


def test_mail_comes_from_and_is_answered_to_the_tickets_department(desk, opened, smtp, committed):
    committed(services.reply, desk.john.user, opened, message="Hello from Support.")

    [answer] = smtp.to(KEN)
    assert answer["From"] == "Support <support@example.com>"
    assert answer["Reply-To"] == "Support <support@example.com>"


def test_a_department_without_an_address_is_answered_through_its_mailbox(desk, settings, smtp, committed):
    settings.DEFAULT_FROM_EMAIL = "Tessera Help Desk <desk@localhost>"
    invoices = HelpTopic.objects.create(name="Invoices", department=desk.billing)
    Mailbox.objects.create(
        name="Billing inbox", address="billing@example.com", host="127.0.0.1", username="b", department=desk.billing
    )

    committed(services.open_ticket, desk.ken, requester=desk.ken, subject="Refund", message="Hi", topic=invoices)

    [ack] = smtp.to(KEN)
    assert ack["From"] == "Tessera Help Desk <desk@localhost>"
    assert ack["Reply-To"] == "Billing <billing@example.com>"


def test_without_address_or_mailbox_answers_go_to_the_sender(desk, settings, smtp, committed):
    settings.DEFAULT_FROM_EMAIL = "Tessera Help Desk <desk@localhost>"
    invoices = HelpTopic.objects.create(name="Invoices", department=desk.billing)

    committed(services.open_ticket, desk.ken, requester=desk.ken, subject="Refund", message="Hi", topic=invoices)

    [ack] = smtp.to(KEN)
    assert ack["Reply-To"] == ack["From"] == "Tessera Help Desk <desk@localhost>"


# ---------------------------------------------------------------------------- body: alternatives and the reply marker


def test_notices_ken_may_answer_start_with_the_reply_marker_in_text_and_html(desk, opened, smtp, committed):
    committed(services.reply, desk.john.user, opened, message="Try **tray 2**.")
    committed(services.set_status, desk.john.user, Ticket.objects.get(pk=opened.pk), status=desk.resolved)

    answer, resolved = smtp.to(KEN)
    for message in (answer, resolved):
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        assert text(message).splitlines()[0] == MARKER
        assert f'<p class="reply-marker" style="color:#9ca3af;font-size:12px;margin:0 0 12px">{MARKER}</p>' in html(
            message
        )
    assert "<strong>tray 2</strong>" in html(answer)
    assert "Try **tray 2**." in text(answer)


def test_the_new_ticket_acknowledgement_starts_with_the_marker(desk, smtp, committed):
    committed(services.open_ticket, desk.ken, requester=desk.ken, subject="Jam", message="Hi", topic=desk.general)

    [ack] = smtp.to(KEN)
    assert text(ack).splitlines()[:2] == [MARKER, ""]
    assert MARKER in html(ack)


def test_agent_alerts_carry_no_reply_marker(desk, smtp, committed):
    committed(services.open_ticket, desk.ken, requester=desk.ken, subject="Jam", message="Hi", topic=desk.general)

    [alert] = smtp.to(OLGA)
    assert MARKER not in text(alert) and MARKER not in html(alert)


# ---------------------------------------------------------------------------- loops


def test_the_acknowledgement_tells_responders_not_to_answer_and_a_person_reply_does_not(desk, smtp, committed):
    ticket = committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Jam", message="Hi", topic=desk.general
    )
    committed(services.reply, desk.john.user, ticket, message="On it.")

    ack, answer = smtp.to(KEN)
    assert (ack["Auto-Submitted"], ack["X-Auto-Response-Suppress"], ack["Precedence"]) == (
        "auto-replied",
        "All",
        "auto_reply",
    )
    assert (answer["Auto-Submitted"], answer["Precedence"]) == (None, None)
    [alert] = smtp.to(OLGA)
    assert alert["Auto-Submitted"] == "auto-generated" and alert["Precedence"] is None


def test_no_acknowledgement_to_one_of_our_own_addresses(desk, smtp, committed):
    Mailbox.objects.create(
        name="Support inbox", address="help@example.com", host="127.0.0.1", username="h", department=desk.support
    )
    ourselves = User.objects.create_user("HELP@example.com", desk.password, name="Our own mailbox")

    committed(services.open_ticket, ourselves, requester=ourselves, subject="Loop", message="x", topic=desk.general)

    assert smtp.to("HELP@example.com") == [] and smtp.to("help@example.com") == []
    assert not Delivery.objects.filter(recipient__iexact="help@example.com").exists()
    assert sorted(parseaddr(m["To"])[1] for m in smtp.messages) == [JOHN, OLGA]  # agents still hear of it


AUTO_REPLY = (
    b"From: Ken Adams <ken@example.com>\r\n"
    b"To: support@example.com\r\n"
    b"Subject: Out of office\r\n"
    b"Message-ID: <ooo-1@mail.example.com>\r\n"
    b"Auto-Submitted: auto-replied\r\n"
    b"\r\n"
    b"I am away until Monday.\r\n"
)


def test_a_ticket_opened_by_an_automatic_message_gets_no_acknowledgement(desk, smtp, committed):
    from tessera.tickets import notifications

    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Out of office", message="Away", topic=desk.general
    )
    entry = ticket.entries.get()
    InboundMessage.objects.create(
        dedupe_key="mid:ooo-1@mail.example.com",
        message_id="ooo-1@mail.example.com",
        sha256=hashlib.sha256(AUTO_REPLY).hexdigest(),
        raw=AUTO_REPLY,
        size=len(AUTO_REPLY),
        channel=Channel.PIPE,
        sender=KEN,
        ticket=ticket,
        entry=entry,
        status=InboundStatus.TICKET,
    )

    notifications.ticket_opened(ticket.pk, entry.pk, desk.ken.pk)

    assert smtp.to(KEN) == []
    assert not Delivery.objects.filter(ticket=ticket, notice="new_ticket").exists()


# ---------------------------------------------------------------------------- when the server will not take it


def test_a_temporary_refusal_is_recorded_and_retry_mail_sends_it_once_the_server_works(desk, flaky, committed):
    ticket = committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Jam", message="Hi", topic=desk.general
    )
    ack = Delivery.objects.get(ticket=ticket, notice="new_ticket")
    assert (ack.status, ack.attempts) == ("queued", 1)
    assert ack.last_error == "451 4.3.0 Mail server temporarily rejected message"
    wait = (ack.next_attempt_at - timezone.now()).total_seconds()
    assert 50 < wait <= 60

    retry_mail()  # not due yet: nothing is tried
    assert Delivery.objects.get(pk=ack.pk).attempts == 1

    due_now(ticket)
    retry_mail()  # still refused: the wait doubles
    ack.refresh_from_db()
    assert (ack.status, ack.attempts) == ("queued", 2)
    assert 110 < (ack.next_attempt_at - timezone.now()).total_seconds() <= 120

    flaky.answer = None
    due_now(ticket)
    out = retry_mail()
    assert retry_mail().startswith("0 sent")  # a second run must not send it again
    assert "3 sent" in out  # Ken's acknowledgement, John's and Olga's alerts
    ack.refresh_from_db()
    assert (ack.status, ack.attempts) == ("sent", 3)
    [received] = flaky.to(KEN)
    assert received["Message-ID"] == f"<{ack.message_id}>"
    assert text(received).startswith(MARKER)
    assert not ticket.events.filter(kind=EventKind.DELIVERY_FAILED).exists()


def test_after_the_last_attempt_agents_see_that_ken_never_got_the_reply(desk, flaky, committed, client):
    flaky.answer = None
    ticket = committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Jam", message="Hi", topic=desk.general
    )
    flaky.answer = "451 4.7.1 Greylisted, try again"
    committed(services.reply, desk.john.user, ticket, message="Try tray 2.")
    for _attempt in range(2):
        due_now(ticket)
        retry_mail()

    reply = Delivery.objects.get(ticket=ticket, notice="response")
    assert (reply.status, reply.attempts, reply.next_attempt_at) == ("failed", 3, None)
    [event] = ticket.events.filter(kind=EventKind.DELIVERY_FAILED)
    assert (event.before, event.after) == (KEN, "451 4.7.1 Greylisted, try again")
    assert (event.actor, event.actor_name) == (None, "System")  # the desk, not the agent who replied
    assert event.data == {"delivery": reply.pk, "notice": "response", "attempts": 3}
    due_now(ticket)
    retry_mail()  # a failed message is not tried again
    assert Delivery.objects.get(pk=reply.pk).attempts == 3

    client.force_login(desk.john.user)
    page = client.get(reverse("staff:ticket", args=[ticket.number])).content.decode()
    assert "Email to ken@example.com could not be sent: 451 4.7.1 Greylisted, try again" in page  # timeline
    panel = page[page.index('id="email-problems"') :]
    panel = panel[: panel.index("</section>")]
    assert "ken@example.com" in panel and "Agent reply" in panel and "Not sent" in panel
    assert "3 attempts" in panel and "451 4.7.1 Greylisted, try again" in panel


def test_a_permanent_refusal_fails_at_once_and_is_shown(desk, flaky, committed):
    flaky.answer = "550 5.1.1 No such user here"

    ticket = committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Jam", message="Hi", topic=desk.general
    )

    ack = Delivery.objects.get(ticket=ticket, notice="new_ticket")
    assert (ack.status, ack.attempts, ack.last_error) == ("failed", 1, "550 5.1.1 No such user here")
    assert ticket.events.filter(kind=EventKind.DELIVERY_FAILED, before=KEN).count() == 1


def test_a_ticket_whose_mail_all_went_out_shows_no_email_panel(desk, opened, committed, client):
    committed(services.reply, desk.john.user, opened, message="Try tray 2.")

    client.force_login(desk.john.user)
    page = client.get(reverse("staff:ticket", args=[opened.number])).content.decode()
    assert 'id="email-problems"' not in page


def test_a_message_still_waiting_shows_as_retrying(desk, flaky, committed, client):
    ticket = committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Jam", message="Hi", topic=desk.general
    )

    client.force_login(desk.john.user)
    page = client.get(reverse("staff:ticket", args=[ticket.number])).content.decode()
    panel = page[page.index('id="email-problems"') :]
    panel = panel[: panel.index("</section>")]
    assert "Retrying" in panel and "New ticket acknowledgement" in panel and "1 attempt" in panel


def test_a_message_whose_task_was_lost_is_sent_by_retry_mail(desk, ken_ticket, smtp):
    delivery = outbound.queue("response", ken_ticket, desk.ken, ken_ticket.entries.get())
    retry_mail()
    assert smtp.messages == []  # just queued: its own task may be about to send it

    Delivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(hours=1))
    retry_mail()

    [message] = smtp.to(KEN)
    assert message["Message-ID"] == f"<{delivery.message_id}>"
    assert Delivery.objects.get(pk=delivery.pk).status == "sent"


def test_with_a_task_queue_that_can_wait_the_retry_is_scheduled_for_later(
    desk, flaky, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    ticket = services.open_ticket(desk.ken, requester=desk.ken, subject="Jam", message="Hi", topic=desk.general)
    delivery = outbound.queue("new_ticket", ticket, desk.ken, ticket.entries.get())
    settings.TASKS = {"default": {"BACKEND": "tessera.scheduler.task_backend.DatabaseBackend"}}

    with django_capture_on_commit_callbacks(execute=True):
        assert outbound.attempt(delivery.pk) == "queued"

    delivery.refresh_from_db()
    [retry] = DBTaskResult.objects.filter(task_path="tessera.mail.outbound.send_delivery")
    assert retry.run_after == delivery.next_attempt_at
    assert retry.args_kwargs["args"][0] == delivery.pk


def test_an_administrators_wording_still_starts_with_the_marker_and_threads(desk, opened, smtp, committed):
    from tessera.mail.models import EmailTemplate

    EmailTemplate.objects.create(
        notice="response",
        subject="News on {{ ticket.subject }}",
        body="Dear {{ recipient.display_name }},\n\nJohn answered ticket {{ ticket.reference }}.",
    )

    committed(services.reply, desk.john.user, opened, message="Try tray 2.")

    [answer] = smtp.to(KEN)
    assert answer["Subject"] == f"[#{opened.number}] News on Printer jams"
    assert text(answer).splitlines()[:3] == [MARKER, "", "Dear Ken Adams,"]
    assert f"{MARKER}</p>" in html(answer) and "Dear Ken Adams," in html(answer)
    assert answer["Message-ID"] == f"<{Delivery.objects.get(ticket=opened, notice='response').message_id}>"
