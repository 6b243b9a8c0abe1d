"""Mail header injection (issue 10, item 1): text an outsider controls never becomes a header of
the desk's own mail.

An RFC 2047 encoded word may carry CR/LF ("=?utf-8?q?x=0D=0ABcc=3A_a=40b?="). Python's email
package decodes it while building a notice, and CPython before 3.12.5 wrote the line breaks out as
new header lines (CVE-2024-6923). Tessera neutralises such words on the way in and refuses any
header that holds a line break on the way out, whatever the interpreter. Every test reads the
bytes a real SMTP peer (aiosmtpd) received and compares the header names against the exact set
Tessera writes, so an injected header of any name shows up.
"""

from __future__ import annotations

import base64
import email.header
from email import message_from_bytes, policy
from email.utils import formataddr

import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from django.urls import reverse

from tessera.accounts.models import Department, User
from tessera.mail import ingest
from tessera.mail.message import GuardedEmail, UnsafeHeader
from tessera.mail.models import Delivery, DeliveryStatus, EmailTemplate, InboundStatus, Mailbox
from tessera.tickets import services
from tessera.tickets.models import EventKind, Ticket

# Every header a notice carries (tessera.mail.outbound.build_message, plus what Django adds).
WRITTEN = {
    "content-type",
    "mime-version",
    "subject",
    "from",
    "to",
    "reply-to",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "x-tessera-ticket",
    "auto-submitted",
    "x-auto-response-suppress",
    "precedence",
}
INJECTED = "Reply-To: billing@attacker.example\r\nBcc: bcc@attacker.example\r\nX-Injected: 1"
SHORT = "Bcc: x@attacker.example"  # for columns too short to hold INJECTED encoded twice (PostgreSQL checks)


def q_word(text: str) -> str:
    """`text` as one RFC 2047 Q-encoded word, CR and LF included (=0D=0A)."""
    data = text.encode()
    body = "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else "_" if b == 0x20 else f"={b:02X}" for b in data)
    return f"=?utf-8?q?{body}?="


def b_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def hostile_forms(visible: str = "Invoice overdue", injected: str = INJECTED) -> dict[str, str]:
    """The same attack raw, as one encoded word, and as an encoded word inside another."""
    attack = f"{visible}\r\n{injected}"
    return {
        "raw": attack,
        "encoded": q_word(attack),
        "base64": b_word(attack),
        "double": q_word(q_word(attack)),
    }


def header_names(raw: bytes) -> set[str]:
    """The names of the top-level headers in the bytes the SMTP peer received."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    names = set()
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t") or not line.strip():
            continue  # a folded continuation
        names.add(line.split(b":", 1)[0].strip().decode("ascii", "replace").lower())
    return names


def _part_text(part: bytes | str, charset: str | None) -> str:
    """One decoded piece as a mail client shows it: bytes its charset cannot read (or a charset
    nobody knows) become replacement characters, never an error. CR, LF and NUL are valid in
    every charset tried here, so they always survive to be checked."""
    if isinstance(part, str):
        return part
    try:
        return part.decode(charset or "ascii", errors="replace")
    except LookupError:
        return part.decode("latin-1")


def decoded_fully(value: str) -> str:
    """A header value decoded as often as a receiving client might (encoded words in encoded words)."""
    for _round in range(5):
        decoded = "".join(_part_text(part, charset) for part, charset in email.header.decode_header(value))
        if decoded == value:
            break
        value = decoded
    return value


def assert_no_injection(envelopes) -> None:
    assert envelopes, "no mail reached the SMTP peer"
    for envelope in envelopes:
        names = header_names(envelope.content)
        assert names <= WRITTEN, f"headers Tessera did not write: {names - WRITTEN}"
        message = message_from_bytes(envelope.content, policy=policy.default)
        for name, value in message.items():
            text = decoded_fully(str(value))
            for bad in ("\r", "\n", "\x00"):
                assert bad not in text, f"{name} decodes to a line break: {text!r}"
        for header in ("From", "To", "Reply-To"):  # names may read "…attacker…"; addresses may not
            assert all("attacker" not in a.addr_spec for h in message.get_all(header, []) for a in h.addresses)
        assert message.get_all("Bcc") is None
        assert all("attacker" not in rcpt for rcpt in envelope.rcpt_tos)


# ---------------------------------------------------------------------------- the portal


@pytest.mark.parametrize("form", ["raw", "encoded", "base64", "double"])
def test_portal_subject_with_line_breaks_neither_forges_headers_nor_hides_the_words(
    client, desk, smtp, django_capture_on_commit_callbacks, form
):
    subject = hostile_forms()[form]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:home"),
            {
                "name": "Greta Guest",
                "email": "greta@example.org",
                "topic": desk.outage.pk,
                "subject": subject,
                "message": "Please look.",
            },
        )

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    # Stored as the words a person reads: one line, no encoded word left to decode later.
    assert "\r" not in ticket.subject and "\n" not in ticket.subject
    assert "=?" not in ticket.subject
    assert ticket.subject.startswith("Invoice overdue")
    assert "X-Injected: 1" in ticket.subject  # kept readable, as text
    assert_no_injection(smtp.envelopes)
    # The acknowledgement and the agents' alert went out, each with a sensible subject.
    subjects = [str(m["Subject"]) for m in smtp.messages]
    assert len(subjects) >= 2
    assert all(f"[#{ticket.number}]" in s and "Invoice overdue" in s for s in subjects)
    assert not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()


@pytest.mark.parametrize("form", ["raw", "encoded", "base64", "double"])
def test_portal_name_with_line_breaks_stays_a_name_even_in_a_template_subject(
    client, desk, smtp, django_capture_on_commit_callbacks, form
):
    """Names reach headers through an administrator's subject ({{ ticket.user.display_name }})."""
    EmailTemplate.objects.create(
        notice="new_ticket_alert", subject="{{ ticket.user.display_name }} needs help", body="{{ link }}"
    )
    EmailTemplate.objects.create(notice="new_ticket", subject="Thanks {{ recipient.display_name }}", body="{{ link }}")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:home"),
            {
                "name": hostile_forms("Greta Guest")[form],
                "email": "greta@example.org",
                "topic": desk.outage.pk,
                "subject": "Mail server down",
                "message": "Please look.",
            },
        )

    assert response.status_code == 302
    greta = User.objects.get(email="greta@example.org")
    assert greta.name.startswith("Greta Guest") and "=?" not in greta.name
    assert not any(c in greta.name for c in "\r\n")
    assert_no_injection(smtp.envelopes)
    subjects = {str(m["Subject"]) for m in smtp.messages}
    assert any(s.endswith("needs help") and "Greta Guest" in s for s in subjects)
    assert any("Thanks Greta Guest" in s for s in subjects)


def test_portal_refuses_an_address_that_hides_an_encoded_word(client, desk, smtp):
    """An "=?…?=" is legal in a local part, and decoders read a header (Bcc included) out of it."""
    address = "=?utf-8?q?x=0D=0ABcc=3A_bcc=40attacker=2Eexample?=@example.org"
    response = client.post(
        reverse("portal:home"),
        {"name": "Eve", "email": address, "topic": desk.outage.pk, "subject": "Hi", "message": "Hello"},
    )

    assert response.status_code == 400  # the form again, with what was typed
    assert "Enter a valid email address." in response.content.decode()
    assert "Mail server down" not in response.content.decode()
    assert not Ticket.objects.exists() and not smtp.envelopes


@pytest.mark.parametrize("form", ["raw", "encoded", "double"])
def test_the_status_pages_access_link_mail_cannot_be_forged_either(client, desk, ken_ticket, smtp, form):
    """The portal sends this one itself (tessera.portal.tasks), through the same guard."""
    # Stored before the inbound rule existed:
    Ticket.objects.filter(pk=ken_ticket.pk).update(subject=hostile_forms("Printer jams", SHORT)[form])
    Department.objects.filter(pk=desk.support.pk).update(name=hostile_forms("Support", SHORT)[form])

    client.post(reverse("portal:status"), {"email": "ken@example.com", "number": str(ken_ticket.number)})

    assert_no_injection(smtp.envelopes)
    [link_mail] = smtp.to("ken@example.com")
    assert "Printer jams" in str(link_mail["Subject"]) and "=?" not in str(link_mail["Subject"])
    assert link_mail["From"].addresses[0].addr_spec == "support@example.com"


# ---------------------------------------------------------------------------- inbound mail


def raw_mail(*, sender: str, subject: str, message_id: str = "<m1@client.example>", extra: str = "") -> bytes:
    """Hand-written bytes: a library would re-encode what the attacker wrote."""
    return (
        f"From: {sender}\r\nTo: Support <support@example.com>\r\nSubject: {subject}\r\n"
        f"Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: {message_id}\r\n{extra}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe invoice is wrong.\r\n"
    ).encode()


@pytest.mark.parametrize("form", ["encoded", "base64", "double", "folded"])
def test_inbound_subject_and_sender_name_cannot_forge_headers_on_our_notices(
    desk, smtp, django_capture_on_commit_callbacks, form
):
    EmailTemplate.objects.create(
        notice="new_ticket_alert",
        subject="{{ entry.author_name }} / {{ ticket.user.display_name }}: {{ ticket.subject }}",
        body="{{ entry.body_text }}",
    )
    if form == "folded":  # a raw line break can only arrive as folding, which unfolds to a space
        subject, name = f"Invoice overdue\r\n {INJECTED}", "Eve\r\n Evil"
    else:
        subject, name = hostile_forms()[form], hostile_forms("Eve Evil")[form]
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest.ingest(raw_mail(sender=f"{name} <eve@example.net>", subject=subject), channel="pipe")

    assert row.status == InboundStatus.TICKET
    ticket = row.ticket
    assert ticket.subject.startswith("Invoice overdue") and "=?" not in ticket.subject
    assert "\r" not in ticket.subject and "\n" not in ticket.subject
    eve = User.objects.get(email="eve@example.net")
    assert eve.name.startswith("Eve") and "=?" not in eve.name and "\n" not in eve.name
    assert_no_injection(smtp.envelopes)
    alerts = [m for m in smtp.messages if "Invoice overdue" in str(m["Subject"]) and "Eve" in str(m["Subject"])]
    assert alerts, [str(m["Subject"]) for m in smtp.messages]
    assert not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()


def test_a_hostile_message_id_is_not_written_back_in_references(
    desk, ken_ticket, smtp, django_capture_on_commit_callbacks
):
    """Ken's client (or someone posing as it) sends a Message-ID holding an encoded line break; our
    answer threads without it instead of repeating it in In-Reply-To and References."""
    hostile_id = f"<{q_word('x' + chr(13) + chr(10) + 'X-Injected: 1')}@client.example>"
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest.ingest(
            raw_mail(
                sender="Ken Adams <ken@example.com>",
                subject=f"Re: [#{ken_ticket.number}] Printer jams",
                message_id=hostile_id,
            ),
            channel="pipe",
        )
    assert row.ticket == ken_ticket
    smtp.envelopes.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(desk.john.user, ken_ticket, message="Try tray 2.")

    assert_no_injection(smtp.envelopes)
    [answer] = smtp.to("ken@example.com")
    assert "=?" not in answer["References"] and "=?" not in answer["In-Reply-To"]
    assert f"<ticket-{ken_ticket.number}@" in answer["References"]  # still threaded


# ---------------------------------------------------------------------------- administrators' templates


@pytest.mark.parametrize("form", ["raw", "encoded", "double"])
def test_an_administrators_subject_cannot_add_headers(desk, ken_ticket, smtp, django_capture_on_commit_callbacks, form):
    """Saved past the form's one-line check (or through its encoded-word blind spot)."""
    EmailTemplate.objects.create(
        notice="response", subject="Answer: {{ ticket.subject }} " + hostile_forms("ok")[form], body="{{ link }}"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(desk.john.user, ken_ticket, message="Try tray 2.")

    assert_no_injection(smtp.envelopes)
    [answer] = smtp.to("ken@example.com")
    assert str(answer["Subject"]).startswith(f"[#{ken_ticket.number}] Answer: Printer jams ok")


# ---------------------------------------------------------------------------- From, Reply-To, To, Message-ID


@pytest.mark.parametrize("form", ["raw", "encoded", "double"])
@pytest.mark.parametrize("with_address", [True, False])
def test_a_department_name_cannot_forge_headers_through_from_or_reply_to(
    desk, smtp, django_capture_on_commit_callbacks, form, with_address
):
    department = Department.objects.create(
        name=hostile_forms("Accounts", SHORT)[form], email="accounts@example.com" if with_address else ""
    )
    if not with_address:  # Reply-To then comes from a mailbox of the department
        Mailbox.objects.create(name="Accounts box", address="accounts-in@example.com", department=department)
    with django_capture_on_commit_callbacks(execute=True):
        services.open_ticket(
            desk.john.user, requester=desk.ken, subject="Refund", message="Please.", department=department
        )

    assert_no_injection(smtp.envelopes)
    [ack] = smtp.to("ken@example.com")
    reply_to = ack["Reply-To"].addresses[0]
    assert reply_to.display_name.startswith("Accounts") and "=?" not in reply_to.display_name
    if with_address:
        assert ack["From"].addresses[0].display_name == reply_to.display_name
        assert ack["From"].addresses[0].addr_spec == "accounts@example.com"


@pytest.mark.parametrize("name", ["Zoë: Billing pay@elsewhere.example", "Billing: pay@elsewhere.example " * 3])
def test_a_department_name_that_looks_like_an_address_never_becomes_one(
    desk, smtp, django_capture_on_commit_callbacks, name
):
    """CPython 3.13.0 writes some quoted display names without their quotes (non-ASCII ones, and
    long ones it folds): the name loses its punctuation rather than naming another address."""
    Department.objects.filter(pk=desk.support.pk).update(name=name)
    with django_capture_on_commit_callbacks(execute=True):
        services.open_ticket(desk.ken, requester=desk.ken, subject="Jam", message="Hi", topic=desk.general)

    assert_no_injection(smtp.envelopes)
    [ack] = smtp.to("ken@example.com")
    for header in ("From", "Reply-To"):
        [address] = ack[header].addresses
        assert address.addr_spec == "support@example.com"
        assert "Billing pay elsewhere example" in address.display_name
    assert not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()


def test_a_recipient_address_hiding_an_encoded_word_fails_visibly_and_is_never_sent(
    desk, smtp, django_capture_on_commit_callbacks, client
):
    """Stored before this rule (or by the admin): the guard refuses the To header, at once, and
    agents see why in the ticket's Email panel."""
    address = "=?utf-8?q?x=0D=0ABcc=3A_bcc=40attacker=2Eexample?=@example.org"
    eve = User.objects.create_user(address, name="Eve")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.open_ticket(eve, requester=eve, subject="Hi", message="Hello", topic=desk.general)

    ack = Delivery.objects.get(ticket=ticket, notice="new_ticket")
    assert (ack.status, ack.attempts) == (DeliveryStatus.FAILED, 1)
    assert "To header would have held a line break" in ack.last_error
    assert ticket.events.filter(kind=EventKind.DELIVERY_FAILED, before=eve.email).count() == 1
    assert all("=?" not in rcpt for e in smtp.envelopes for rcpt in e.rcpt_tos)
    assert_no_injection(smtp.envelopes)  # the agents' alert still went out, clean

    client.force_login(desk.john.user)
    page = client.get(reverse("staff:ticket", args=[ticket.number])).content.decode()
    panel = page[page.index('id="email-problems"') :]
    assert "Not sent" in panel and "would have held a line break" in panel


def test_a_hostile_mail_domain_in_settings_fails_the_notice_instead_of_forging_message_id(
    desk, smtp, settings, django_capture_on_commit_callbacks
):
    """Message-ID and References carry our domain (DEFAULT_FROM_EMAIL): the guard covers them too."""
    settings.DEFAULT_FROM_EMAIL = f"desk@{q_word('x' + chr(13) + chr(10) + 'X-Injected: 1')}"
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.open_ticket(desk.ken, requester=desk.ken, subject="Jam", message="Hi", topic=desk.general)

    failed = Delivery.objects.filter(ticket=ticket, status=DeliveryStatus.FAILED)
    assert failed.exists() and not smtp.envelopes
    assert all("Message-ID header would have held a line break" in d.last_error for d in failed)


# ---------------------------------------------------------------------------- the guard itself


@pytest.mark.parametrize("form", ["raw", "encoded", "base64", "double"])
@pytest.mark.parametrize("header", ["Subject", "From", "To", "Reply-To", "References", "In-Reply-To", "X-Custom"])
def test_the_guard_refuses_a_line_break_in_any_header_before_anything_is_sent(smtp, header, form):
    value = hostile_forms()[form]
    fields = {"subject": "Hi", "from_email": "desk@example.com", "to": ["ken@example.com"], "headers": {}}
    if header == "Subject":
        fields["subject"] = value
    elif header == "From":
        fields["from_email"] = f"{value} <desk@example.com>"
    elif header == "To":
        fields["to"] = [f"{value} <ken@example.com>"]
    elif header == "Reply-To":
        fields["reply_to"] = [f"{value} <desk@example.com>"]
    else:
        fields["headers"] = {header: f"<{value}@example.com>"}
    message = GuardedEmail(body="Hello", **fields)

    with pytest.raises(UnsafeHeader, match=f"its {header} header"):
        message.send()
    with pytest.raises(UnsafeHeader):
        message.message()
    assert smtp.envelopes == []


def test_the_guard_lets_ordinary_international_mail_through(smtp):
    GuardedEmail(
        subject="Réponse : « Imprimante » 打印机 — 2+2=?",
        body="Bonjour",
        from_email='"Support, Tier 1" <support@example.com>',
        to=["Zoë Ünal <zoe@example.com>"],
        headers={"References": "<a@example.com> <b@example.com>"},
    ).send()

    [received] = smtp.messages
    assert str(received["Subject"]) == "Réponse : « Imprimante » 打印机 — 2+2=?"
    assert received["To"].addresses[0].display_name == "Zoë Ünal"


_pieces = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["\r", "\n", "\r\n", "\x00", "\x85", "\u2028", "Bcc: x@attacker.example", "=?", "?=", "?q?"]),
)
_values = st.lists(_pieces, max_size=8).map("".join)


@hypothesis_settings(max_examples=150, deadline=None)
@example("\x80 ;", [], "From")  # CPython 3.13.0 writes this name so that it reads as another address
@given(_values, st.lists(st.sampled_from(["q", "b"]), max_size=2), st.sampled_from(["Subject", "From", "References"]))
def test_whatever_a_header_is_given_the_guard_refuses_it_or_writes_only_our_headers(text, layers, header):
    for layer in layers:
        text = q_word(text) if layer == "q" else b_word(text)
    fields = {"subject": "Hi", "from_email": "desk@example.com", "headers": {}}
    if header == "Subject":
        fields["subject"] = text
    elif header == "From":
        fields["from_email"] = formataddr((text, "desk@example.com"))  # composed as usual, not cleaned
    else:
        fields["headers"] = {"References": text}
    try:
        raw = GuardedEmail(body="x", to=["ken@example.com"], **fields).message(policy=policy.SMTP).as_bytes()
    except UnsafeHeader:
        return
    except ValueError:  # the email package refusing an unparsable address outright is fine too
        assert header == "From"
        return
    assert header_names(raw) <= WRITTEN | {"content-transfer-encoding"}
    parsed = message_from_bytes(raw, policy=policy.default)
    assert [a.addr_spec for a in parsed["From"].addresses] == ["desk@example.com"]
    assert all(not any(c in decoded_fully(str(v)) for c in "\r\n\x00") for _n, v in parsed.items())
