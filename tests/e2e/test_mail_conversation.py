"""The whole conversation by mail, performed with real MIME, a real SMTP peer and Chromium: Ken
writes to support@, John answers in the workspace, Ken answers from his mail client with the
history quoted under his text, and Ken's out-of-office reply is noted but never answered.

Ken's messages are built the way a mail client builds them (Message-ID, Date, a display name,
In-Reply-To/References taken from what he received) and go through the same `ingest` the MTA
pipe uses; what Ken receives is read back from the SMTP peer as bytes."""

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from playwright.sync_api import Browser, expect

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.conftest import body_text

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e

SUBJECT = "VPN drops every ten minutes"
KEN_FIRST = "Since Monday my VPN connection drops every ten minutes, from home and from the office."
JOHN_ANSWER = "Please update the VPN client to version 5.2; the drops were fixed there."
KEN_SECOND = "Updated to 5.2 this morning and it has held for two hours now. Thanks!"
OUT_OF_OFFICE = "I am out of the office until Monday and will read your message when I am back."
MSG_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")


def ken_writes(subject: str, text: str, **headers: str) -> bytes:
    """A message as Ken's mail client sends it."""
    message = EmailMessage()
    message["From"] = "Ken Adams <ken@example.com>"
    message["To"] = "Support <support@example.com>"
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain="mail.example.com")
    message["User-Agent"] = "Mozilla/5.0 Thunderbird/128.5.0"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message.as_bytes()


def quoted(received: EmailMessage, answer: str) -> str:
    """Ken's answer above the quoted message, as clients write replies (marker line included)."""
    original = body_text(received).replace("\r\n", "\n").rstrip("\n")
    when = received["Date"].datetime.strftime("%a, %d %b %Y at %H:%M")
    sender = received["From"].addresses[0].display_name or received["From"].addresses[0].addr_spec
    history = "\n".join(f"> {line}" if line else ">" for line in original.split("\n"))
    return f"{answer}\n\nOn {when}, {sender} wrote:\n{history}\n"


def received_by_ken(smtp, predicate) -> EmailMessage:
    """The one message Ken's mailbox got that matches, parsed from the bytes the SMTP peer saw."""
    smtp.wait_for(lambda m: "ken@example.com" in m["To"] and predicate(m))
    found = [
        m
        for m in (message_from_bytes(e.content, policy=policy.default) for e in smtp.envelopes)
        if "ken@example.com" in m["To"] and predicate(m)
    ]
    assert len(found) == 1, [m["Subject"] for m in found]
    return found[0]


def test_ken_mails_john_answers_ken_replies_by_mail_and_his_out_of_office_is_only_noted(
    transactional_db, desk, site, smtp, browser: Browser
):
    from tessera.mail.ingest import ingest
    from tessera.mail.models import Delivery, InboundStatus
    from tessera.tickets.models import EntryKind, Event, EventKind, Ticket

    base = site.url
    marker = settings.TESSERA["REPLY_MARKER"]

    # 1. Ken emails support@: a ticket opens in Support, and Ken gets the acknowledgement.
    first = ken_writes(SUBJECT, KEN_FIRST)
    inbound = ingest(first, channel="pipe")
    assert inbound.status == InboundStatus.TICKET, inbound.reason
    assert bytes(inbound.raw) == first
    assert inbound.ticket_id is not None
    ticket = Ticket.objects.get(pk=inbound.ticket_id)
    assert ticket.subject == SUBJECT
    assert ticket.department == desk.support
    assert ticket.user == desk.ken
    assert KEN_FIRST in ticket.entries.get().body_text
    ack = received_by_ken(smtp, lambda m: "We received your request" in m["Subject"])
    assert f"[{ticket.reference}]" in ack["Subject"]

    # 2. John opens it in the workspace and answers.
    john = browser.new_page()
    sign_in_to_workspace(john, base, "john@example.com", desk.password)
    john.goto(base + reverse("staff:ticket", args=[ticket.number]))
    expect(john.get_by_role("heading", name=SUBJECT)).to_be_visible()
    expect(john.get_by_text(KEN_FIRST)).to_be_visible()
    john.get_by_label("Reply", exact=True).fill(JOHN_ANSWER)
    john.get_by_role("button", name="Send reply").click()
    expect(john.locator(".entry-response").get_by_text(JOHN_ANSWER)).to_be_visible()

    # Ken receives it: a proper Message-ID, threaded onto his conversation, marker and John's text.
    answer = received_by_ken(smtp, lambda m: JOHN_ANSWER in body_text(m))
    assert answer["Subject"].startswith(f"[{ticket.reference}] Re:")
    assert MSG_ID.match(answer["Message-ID"]), answer["Message-ID"]
    assert MSG_ID.match(answer["In-Reply-To"]), answer["In-Reply-To"]
    assert answer["In-Reply-To"] in answer["References"].split()
    assert answer["Message-ID"] != ack["Message-ID"]
    text = body_text(answer)
    assert marker in text
    assert text.index(marker) < text.index(JOHN_ANSWER)
    assert "Auto-Submitted" not in answer  # a person wrote it: vacation responders may answer
    sent_id = answer["Message-ID"]
    assert Delivery.objects.filter(ticket=ticket, message_id__in=[sent_id, sent_id.strip("<>")]).exists()

    # 3. Ken answers from his mail client, quoting the whole message under his text.
    reply = ken_writes(
        f"Re: {answer['Subject']}",
        quoted(answer, KEN_SECOND),
        In_Reply_To=sent_id,
        References=f"{answer['References']} {sent_id}",
    )
    assert f"> {JOHN_ANSWER}" in reply.decode() and f"> {marker}" in reply.decode()
    mails_before_reply = len(smtp.envelopes)
    inbound = ingest(reply, channel="pipe")
    assert inbound.status == InboundStatus.REPLY, inbound.reason
    assert inbound.ticket_id == ticket.pk
    assert Ticket.objects.count() == 1
    assert inbound.entry_id is not None
    entry = ticket.entries.get(pk=inbound.entry_id)
    assert entry.kind == EntryKind.MESSAGE
    assert entry.author == desk.ken
    assert KEN_SECOND in entry.body_text
    for history in (JOHN_ANSWER, marker, "wrote:", KEN_FIRST):
        assert history not in entry.body_text, history
        assert history not in entry.body_html, history
    # The agents hear of it; Ken is not sent his own words back.
    smtp.wait_for(lambda m: "john@example.com" in m["To"] and "New message" in m["Subject"])
    assert not [m for m in smtp.messages[mails_before_reply:] if "ken@example.com" in m["To"]], (
        "Ken was mailed about his own reply"
    )

    # John sees Ken's new text on the same ticket, without the quoted history.
    john.reload()
    kens_entry = john.locator(f"#entry-{entry.pk}")
    expect(kens_entry.get_by_text(KEN_SECOND)).to_be_visible()
    shown = kens_entry.locator(".body").inner_text()
    assert JOHN_ANSWER not in shown and "wrote:" not in shown and marker not in shown
    expect(john.locator(".entry")).to_have_count(3)

    # 4. Ken's out-of-office answers the latest message: noted on the timeline, never answered.
    envelopes_before = len(smtp.envelopes)
    deliveries_before = Delivery.objects.filter(ticket=ticket).count()
    entries_before = ticket.entries.count()
    out_of_office = ken_writes(
        f"Automatic reply: {answer['Subject']}",
        OUT_OF_OFFICE,
        In_Reply_To=sent_id,
        References=sent_id,
        Auto_Submitted="auto-replied",
        X_Auto_Response_Suppress="All",
    )
    inbound = ingest(out_of_office, channel="pipe")
    assert inbound.status == InboundStatus.EVENT, inbound.reason
    assert inbound.ticket_id == ticket.pk
    event = Event.objects.get(ticket=ticket, kind=EventKind.AUTO_REPLY)
    assert "ken@example.com" in event.before.lower()
    assert ticket.entries.count() == entries_before
    # Sending runs on commit with the immediate task backend: anything sent has been sent by now.
    assert len(smtp.envelopes) == envelopes_before, [m["Subject"] for m in smtp.messages[envelopes_before:]]
    assert Delivery.objects.filter(ticket=ticket).count() == deliveries_before

    john.reload()
    expect(john.locator(f"#event-{event.pk}")).to_contain_text("Automatic reply from")
    expect(john.locator(f"#event-{event.pk}")).to_contain_text("not answered")
    expect(john.locator(".entry")).to_have_count(3)

    # Everything Ken received is about his one ticket.
    for message in smtp.to("ken@example.com"):
        assert f"[{ticket.reference}]" in message["Subject"]
