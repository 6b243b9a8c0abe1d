"""Mail in, as customers and agents notice it: a new message opens a ticket, an answer lands on
its ticket without the quoted history, noise is recorded and never answered, refused mail is
kept with the reason, and nothing is ever stored twice.

Every message here is real MIME built with email.message.EmailMessage and fed as bytes.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest

from tessera.accounts.models import User
from tessera.mail import ingest as inbox
from tessera.mail.models import BannedSender, Delivery, InboundMessage, InboundStatus, Mailbox
from tessera.tickets import services
from tessera.tickets.models import Attachment, Collaborator, EntryKind, Event, EventKind, Source, State, Ticket

MARKER = "-- Reply above this line --"


def mail(
    *,
    sender: str = "Ken Adams <ken@example.com>",
    to: str = "support@example.com",
    subject: str = "Printer jams",
    body: str = "It jams on page two.",
    html: str | None = None,
    message_id: str | None | bool = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: tuple = (),
) -> bytes:
    """One message as a mail client would send it."""
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = formatdate(localtime=False)
    if message_id is not False:
        m["Message-ID"] = message_id or make_msgid(domain="client.example")
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
    if references:
        m["References"] = references
    for name, value in (headers or {}).items():
        m[name] = value
    m.set_content(body)
    if html is not None:
        m.add_alternative(html, subtype="html")
    for item in attachments:
        name, data, ctype, *rest = item
        maintype, subtype = ctype.split("/")
        kwargs = {"filename": name}
        if rest:  # an inline image with its Content-ID
            kwargs = {"filename": name, "disposition": "inline", "cid": f"<{rest[0]}>"}
        m.add_attachment(data, maintype=maintype, subtype=subtype, **kwargs)
    return m.as_bytes()


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.TESSERA = {**settings.TESSERA, "REPLY_MARKER": MARKER}


@pytest.fixture
def receive(django_capture_on_commit_callbacks):
    """Ingest as the pipe does, running what the services schedule after commit (notifications)."""

    def run(raw: bytes, **kwargs) -> InboundMessage:
        with django_capture_on_commit_callbacks(execute=True):
            return inbox.ingest(raw, channel=kwargs.pop("channel", "pipe"), **kwargs)

    return run


def notification(ticket, user, message_id: str = "tessera-100001-abc@localhost") -> Delivery:
    """Arrangement: the notification Tessera sent `user` about `ticket`, as outbound records it."""
    return Delivery.objects.create(
        ticket=ticket, notice="response", recipient=user.email, user=user, message_id=message_id, status="sent"
    )


# ---------------------------------------------------------------------------- new tickets


def test_mail_from_a_new_address_opens_a_ticket_for_a_new_user(desk, receive, mailoutbox):
    row = receive(mail(sender="Nora New <Nora@Customer.example>", subject="VPN is down", body="Since 9am."))

    assert row.status == InboundStatus.TICKET
    nora = User.objects.get(email="nora@customer.example")
    assert nora.name == "Nora New" and not nora.is_agent
    ticket = row.ticket
    assert (ticket.user, ticket.subject, ticket.source) == (nora, "VPN is down", Source.EMAIL)
    assert ticket.department == desk.support  # sent to support@example.com
    assert row.entry.kind == EntryKind.MESSAGE and "Since 9am." in row.entry.body_text
    assert row.entry.source == Source.EMAIL and row.processed_at is not None
    assert any(m.to == ["nora@customer.example"] for m in mailoutbox)  # the acknowledgement went out


def test_a_mailbox_decides_the_department_and_topic_of_new_tickets(desk, receive):
    box = Mailbox.objects.create(
        name="ops", address="ops@example.com", host="127.0.0.1", username="ops", department=desk.sysadmin,
        topic=desk.outage,
    )  # fmt: skip
    row = receive(mail(to="ops@example.com", subject="Disk full"), channel="imap", mailbox=box)
    assert (row.ticket.department, row.ticket.topic) == (desk.sysadmin, desk.outage)


def test_a_message_without_subject_still_opens_a_ticket(desk, receive):
    row = receive(mail(subject=""))
    assert row.ticket.subject == "[No subject]"


def test_an_html_only_message_keeps_its_formatting_and_a_text_twin(desk, receive):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "ken@example.com", "support@example.com", "Formatted"
    m["Message-ID"] = make_msgid(domain="client.example")
    m.set_content("<p>The <b>blue</b> printer.<script>alert(1)</script></p>", subtype="html")
    entry = receive(m.as_bytes()).entry
    assert "<b>blue</b>" in entry.body_html and "script" not in entry.body_html
    assert "The blue printer." in entry.body_text


# ---------------------------------------------------------------------------- replies


def ken_reply(**kwargs) -> bytes:
    body = kwargs.pop(
        "body",
        f"Still jams after the reset.\n\n{MARKER}\nJohn Doe wrote:\n> Please reset the printer.\n",
    )
    return mail(subject=kwargs.pop("subject", "Re: [#100001] Printer jams"), body=body, **kwargs)


def test_the_requesters_answer_to_our_mail_lands_on_the_ticket_without_the_quoted_history(desk, ken_ticket, receive):
    sent = notification(ken_ticket, desk.ken)
    row = receive(ken_reply(subject="Re: Printer jams", in_reply_to=f"<{sent.message_id}>"))

    assert row.status == InboundStatus.REPLY and row.ticket == ken_ticket
    entry = row.entry
    assert (entry.kind, entry.author, entry.source) == (EntryKind.MESSAGE, desk.ken, Source.EMAIL)
    assert "Still jams after the reset." in entry.body_text
    assert "Please reset the printer" not in entry.body_text
    assert b"Please reset the printer" in bytes(row.raw)  # the full original is kept
    assert Ticket.objects.count() == 1


def test_an_answer_threads_by_references_when_in_reply_to_is_missing(desk, ken_ticket, receive):
    sent = notification(ken_ticket, desk.ken)
    row = receive(ken_reply(subject="Re: Printer", references=f"<unknown@elsewhere> <{sent.message_id}>"))
    assert row.ticket == ken_ticket and row.status == InboundStatus.REPLY


def test_an_answer_threads_by_the_ticket_number_in_the_subject(desk, ken_ticket, receive):
    row = receive(ken_reply(subject=f"AW: [#{ken_ticket.number}] Printer jams"))
    assert row.ticket == ken_ticket and row.entry.author == desk.ken


def test_a_reply_by_mail_reopens_a_resolved_ticket(desk, ken_ticket, receive):
    services.set_status(desk.john.user, ken_ticket, status=desk.resolved)
    receive(ken_reply())
    ken_ticket.refresh_from_db()
    assert ken_ticket.state == State.OPEN


def test_an_agent_answering_by_mail_adds_an_internal_note(desk, ken_ticket, receive):
    sent = notification(ken_ticket, desk.john.user, "tessera-100001-alert@localhost")
    row = receive(
        mail(sender="John Doe <john@example.com>", subject="Re: new ticket", body="Known issue, see KB 12.",
             in_reply_to=f"<{sent.message_id}>")
    )  # fmt: skip
    assert row.status == InboundStatus.REPLY
    assert (row.entry.kind, row.entry.author, row.entry.source) == (EntryKind.NOTE, desk.john.user, Source.EMAIL)


def test_a_stranger_answering_is_copied_on_the_ticket_when_the_department_allows_it(desk, ken_ticket, receive):
    sent = notification(ken_ticket, desk.ken)
    row = receive(
        mail(sender="Boss <boss@example.com>", subject="Re: Printer jams", body="Please hurry.",
             in_reply_to=f"<{sent.message_id}>")
    )  # fmt: skip
    boss = User.objects.get(email="boss@example.com")
    assert row.status == InboundStatus.REPLY and row.entry.author == boss
    assert Collaborator.objects.filter(ticket=ken_ticket, user=boss).exists()
    added = Event.objects.get(ticket=ken_ticket, kind=EventKind.COLLABORATOR_ADDED)
    assert added.actor is None and added.after == "boss@example.com"


def test_a_stranger_answering_is_refused_and_kept_when_the_department_says_so(desk, ken_ticket, receive):
    desk.support.unknown_senders = "refuse"
    desk.support.save()
    sent = notification(ken_ticket, desk.ken)
    row = receive(
        mail(sender="boss@example.com", subject="Re: Printer jams", body="Hurry.", in_reply_to=f"<{sent.message_id}>")
    )
    assert row.status == InboundStatus.REJECTED and "boss@example.com" in row.reason
    assert row.entry is None and ken_ticket.entries.count() == 1
    refused = Event.objects.get(ticket=ken_ticket, kind=EventKind.MAIL_REFUSED)
    assert refused.before == "boss@example.com"
    assert not Collaborator.objects.filter(ticket=ken_ticket).exists()


# ---------------------------------------------------------------------------- noise


def test_an_out_of_office_reply_is_recorded_and_never_answered(desk, ken_ticket, receive, mailoutbox):
    services.set_status(desk.john.user, ken_ticket, status=desk.resolved)
    sent = notification(ken_ticket, desk.ken)
    mailoutbox.clear()
    row = receive(
        mail(subject="Out of office: Printer jams", body="I am away until Monday.", in_reply_to=f"<{sent.message_id}>",
             headers={"Auto-Submitted": "auto-replied"})
    )  # fmt: skip
    assert row.status == InboundStatus.EVENT and row.ticket == ken_ticket
    event = Event.objects.get(ticket=ken_ticket, kind=EventKind.AUTO_REPLY)
    assert event.before == "ken@example.com" and event.actor is None
    ken_ticket.refresh_from_db()
    assert ken_ticket.state == State.RESOLVED  # not reopened
    assert ken_ticket.entries.count() == 1
    assert mailoutbox == []


def test_an_automatic_reply_that_answers_no_ticket_is_kept_and_opens_nothing(desk, receive, mailoutbox):
    row = receive(mail(sender="noreply@vendor.example", subject="Newsletter", headers={"Precedence": "bulk"}))
    assert row.status == InboundStatus.REJECTED and row.ticket is None
    assert Ticket.objects.count() == 0 and mailoutbox == []


def bounce_for(message_id: str, recipient: str = "ken@example.com") -> bytes:
    """A Postfix-style delivery status notification (RFC 3464) about the message `message_id`."""
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: support@example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <{make_msgid(domain="mx.example.com")[1:-1]}>
Date: {formatdate()}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b0undary"

--b0undary
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to {recipient}.

--b0undary
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--b0undary
Content-Type: text/rfc822-headers

From: support@example.com
To: {recipient}
Subject: [#100001] Printer jams
Message-ID: <{message_id}>

--b0undary--
""".replace("\n", "\r\n").encode()


def test_a_bounce_of_our_mail_is_recorded_on_its_ticket_and_never_answered(desk, ken_ticket, receive, mailoutbox):
    sent = notification(ken_ticket, desk.ken)
    mailoutbox.clear()
    row = receive(bounce_for(sent.message_id))
    assert row.status == InboundStatus.EVENT and row.ticket == ken_ticket
    event = Event.objects.get(ticket=ken_ticket, kind=EventKind.BOUNCE)
    assert event.before == "ken@example.com"
    assert ken_ticket.entries.count() == 1 and mailoutbox == []


def test_a_bounced_notification_shows_as_failed_not_sent(desk, ken_ticket, receive):
    sent = notification(ken_ticket, desk.ken)
    receive(bounce_for(sent.message_id))
    sent.refresh_from_db()
    assert sent.status == "failed" and sent.last_error.startswith("Bounced: ")
    assert not Event.objects.filter(ticket=ken_ticket, kind=EventKind.DELIVERY_FAILED).exists()  # one event: the bounce


def test_a_bounce_about_nothing_we_sent_opens_no_ticket(desk, receive):
    row = receive(bounce_for("someone-else@elsewhere.example"))
    assert row.status == InboundStatus.REJECTED and Ticket.objects.count() == 0


def test_mail_from_a_banned_address_or_domain_is_kept_and_not_posted(desk, receive):
    BannedSender.objects.create(pattern="pest@example.org", reason="Harassment")
    BannedSender.objects.create(pattern="spam.example")
    by_address = receive(mail(sender="PEST@example.org", subject="Hello again"))
    by_domain = receive(mail(sender="seller@Spam.Example", subject="Cheap pills"))
    assert by_address.status == by_domain.status == InboundStatus.REJECTED
    assert "pest@example.org" in by_address.reason and "spam.example" in by_domain.reason
    assert Ticket.objects.count() == 0


def test_a_sender_over_the_hourly_limit_is_kept_and_not_posted(desk, receive, settings):
    settings.TESSERA = {**settings.TESSERA, "MAIL_SENDER_LIMIT_PER_HOUR": 2}
    rows = [receive(mail(sender="chatty@example.net", subject=f"Message {n}")) for n in range(3)]
    assert [r.status for r in rows] == [InboundStatus.TICKET, InboundStatus.TICKET, InboundStatus.REJECTED]
    assert "more than 2 messages" in rows[2].reason


def test_our_own_mail_coming_back_is_a_loop_and_not_posted(desk, ken_ticket, receive):
    from_us = receive(mail(sender="Support <support@example.com>", subject="[#100001] Printer jams"))
    sent = notification(ken_ticket, desk.ken)
    echoed = receive(mail(subject="Printer jams", message_id=f"<{sent.message_id}>"))
    assert from_us.status == echoed.status == InboundStatus.REJECTED
    assert "loop" in from_us.reason.lower() and "loop" in echoed.reason.lower()
    assert ken_ticket.entries.count() == 1


# ---------------------------------------------------------------------------- nothing twice, nothing lost


def test_the_same_message_delivered_twice_is_stored_and_posted_once(desk, receive):
    raw = mail(message_id="<once@client.example>")
    first, second = receive(raw), receive(raw)
    assert first.pk == second.pk
    assert InboundMessage.objects.count() == 1 and Ticket.objects.count() == 1


def test_a_message_without_message_id_is_deduplicated_by_its_bytes(desk, receive):
    raw = mail(message_id=False, subject="No id")
    assert receive(raw).pk == receive(raw).pk
    receive(mail(message_id=False, subject="No id", body="Different words."))
    assert InboundMessage.objects.count() == 2 and Ticket.objects.count() == 2
    assert all(k.startswith("sha256:") for k in InboundMessage.objects.values_list("dedupe_key", flat=True))


def test_a_message_left_pending_by_a_crash_is_processed_when_it_comes_again(desk, receive):
    raw = mail(message_id="<retry@client.example>")
    row, _parsed, created = inbox.store(raw, channel="pipe")  # the process died right after storing
    assert created and row.status == InboundStatus.PENDING
    again = receive(raw)
    assert (
        again.pk == row.pk and again.status == InboundStatus.TICKET and again.attempts == 2
    )  # the crashed attempt counts
    assert Ticket.objects.count() == 1


def test_a_message_that_keeps_crashing_is_given_up_on_and_kept(desk, receive):
    raw = mail(message_id="<poison@client.example>")
    row, _parsed, _created = inbox.store(raw, channel="pipe")
    InboundMessage.objects.filter(pk=row.pk).update(attempts=inbox.MAX_ATTEMPTS, reason="killed")
    again = receive(raw)
    assert again.status == InboundStatus.REJECTED and "killed" in again.reason
    assert Ticket.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_mail_to_a_department_another_process_just_deleted_still_opens_a_ticket(desk, receive):
    """Routing data is remembered per process for a few seconds (tessera.process_memo); a
    department deleted meanwhile elsewhere (no signal reaches this process) must not lose mail."""
    from django.db import connection

    from tessera.accounts.models import Department

    spare = Department.objects.create(name="Spare", email="spare@example.com")
    assert receive(mail(subject="First")).status == InboundStatus.TICKET  # the routes are read
    with connection.cursor() as cursor:  # as another process would: no signal here
        cursor.execute("DELETE FROM accounts_department WHERE id = %s", [spare.pk])

    row = receive(mail(to="spare@example.com", subject="Second"))

    assert row.status == InboundStatus.TICKET
    assert row.ticket.subject == "Second" and row.ticket.department_id != spare.pk


def test_mail_from_a_disabled_account_is_kept_with_the_reason_and_leaves_nothing_behind(desk, receive):
    User.objects.create_user("gone@example.com", name="Gone", is_active=False)
    row = receive(mail(sender="gone@example.com"))
    assert row.status == InboundStatus.REJECTED and "cannot open tickets" in row.reason
    assert Ticket.objects.count() == 0


def test_a_message_too_large_is_kept_and_not_posted(desk, receive, settings):
    settings.TESSERA = {**settings.TESSERA, "MAIL_MAX_MESSAGE_BYTES": 2000}
    row = receive(mail(body="x" * 5000))
    assert row.status == InboundStatus.REJECTED and "2000" in row.reason
    assert len(bytes(row.raw)) > 5000 and Ticket.objects.count() == 0


def test_bytes_that_are_not_mail_are_kept_and_rejected(desk, receive):
    row = receive(b"\x00\x01 this is not an email")
    assert row.status == InboundStatus.REJECTED and bytes(row.raw) == b"\x00\x01 this is not an email"


# ---------------------------------------------------------------------------- attachments


def test_a_refused_attachment_is_noted_on_the_entry_and_the_message_still_lands(desk, receive, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_ATTACHMENT_BYTES": 1000}
    row = receive(
        mail(
            body="Logs attached.",
            attachments=(
                ("log.txt", b"ok " * 10, "text/plain"),
                ("dump.bin", b"\0" * 5000, "application/octet-stream"),
                ("setup.exe", b"MZ", "application/octet-stream"),
            ),
        )
    )
    entry = row.entry
    assert row.status == InboundStatus.TICKET
    assert [a.name for a in entry.attachments.all()] == ["log.txt"]
    assert "Attachment dump.bin was not kept" in entry.body_text
    assert "Attachment setup.exe was not kept" in entry.body_text
    assert "dump.bin was not kept" in entry.body_html


def test_an_inline_image_keeps_its_content_id(desk, receive):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    raw = mail(
        body="See screenshot.",
        html='<p>See <img src="cid:shot1@client"></p>',
        attachments=(("shot.png", png, "image/png", "shot1@client"),),
    )
    entry = receive(raw).entry
    shot = Attachment.objects.get(entry=entry)
    assert shot.content_id == "shot1@client"
    assert 'src="cid:shot1@client"' in entry.body_html


def test_retry_inbound_posts_mail_a_crash_left_waiting(desk):
    from django.core.management import call_command

    from tessera.mail.models import InboundMessage, InboundStatus

    row, _parsed, _created = inbox.store(mail(subject="Left waiting", body="Hello"), channel="pipe")
    assert row.status == InboundStatus.PENDING  # stored, then the process died before processing
    call_command("retry_inbound", verbosity=0)
    row = InboundMessage.objects.get(pk=row.pk)
    assert row.status == InboundStatus.TICKET and row.ticket.subject == "Left waiting"
