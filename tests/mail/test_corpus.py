"""Every message in tests/mail/corpus, as real clients and servers write them, lands where a
person at the help desk expects: a new ticket, a reply on the right ticket with the quoted
history cut, a timeline event that is never answered, or a message kept with the reason.

Each NNN-name.eml has a NNN-name.json beside it saying what the message must produce (the
format is in tests/mail/corpus/README.md). The raw bytes go through the same entry point the
MTA pipe uses; nothing is mocked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tessera.accounts.models import Department, User
from tessera.accounts.services import end_user_for_email
from tessera.mail import ingest as inbox
from tessera.mail.models import BannedSender, Delivery, InboundMessage, InboundStatus
from tessera.tickets import services
from tessera.tickets.models import Event, Ticket

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*.eml"))
KEYS = {"description", "client", "setup", "expect"}
EXPECT_KEYS = {
    "status",
    "ticket",
    "entry_kind",
    "subject",
    "sender",
    "requester",
    "department",
    "author",
    "body_contains",
    "body_excludes",
    "html_contains",
    "html_excludes",
    "attachments",
    "inline",
    "refused_attachments",
    "event_kind",
    "event_contains",
    "reason_contains",
    "acknowledged",
    "state",
}


def expectations(path: Path) -> dict:
    spec = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert set(spec) <= KEYS, f"unknown keys in {path.name}: {set(spec) - KEYS}"
    assert set(spec["expect"]) <= EXPECT_KEYS, f"unknown expectations in {path.name}"
    return spec


@pytest.fixture(autouse=True)
def _desk_mail_settings(settings):
    # The desk sends as support@example.com, so our Message-IDs end in @example.com as in the corpus.
    settings.DEFAULT_FROM_EMAIL = "Example Support <support@example.com>"
    settings.TESSERA = {**settings.TESSERA, "REPLY_MARKER": "-- Reply above this line --"}


def arrange(desk, setup: dict) -> Ticket | None:
    """The state the message arrives into: banned senders, a department's rule for strangers,
    and the ticket (with our notification's Message-ID) that a reply answers."""
    for pattern in setup.get("banned", []):
        BannedSender.objects.create(pattern=pattern, reason="Sends spam.")
    for name, rule in setup.get("unknown_senders", {}).items():
        Department.objects.filter(name=name).update(unknown_senders=rule)
    spec = setup.get("ticket")
    if not spec:
        return None
    requester = end_user_for_email(email=spec.get("requester", "ken@example.com"))
    topic = desk.outage if spec.get("department") == "System Administration" else desk.general
    actor = requester if topic.is_public else desk.jane.user
    ticket = services.open_ticket(
        actor,
        requester=requester,
        subject=spec.get("subject", "Printer jams"),
        message=spec.get("message", "It jams on page two."),
        topic=topic,
    )
    Ticket.objects.filter(pk=ticket.pk).update(number=spec["number"])
    ticket.refresh_from_db()
    manager = desk.jane.user if ticket.department == desk.sysadmin else desk.john.user
    for address in spec.get("collaborators", []):
        services.add_collaborator(manager, ticket, user=end_user_for_email(email=address))
    if spec.get("state"):
        ticket = services.set_status(manager, ticket, status=getattr(desk, spec["state"]))
    for message_id in [spec["sent_message_id"]] if spec.get("sent_message_id") else []:
        Delivery.objects.create(
            ticket=ticket,
            notice="response",
            recipient=requester.email,
            user=requester,
            message_id=message_id,
            status="sent",
        )
    return ticket


def check_entry(row: InboundMessage, expect: dict) -> None:
    entry = row.entry
    assert entry is not None, row.reason
    assert entry.ticket_id == row.ticket_id
    if "entry_kind" in expect:
        assert entry.kind == expect["entry_kind"]
    if "author" in expect:
        assert entry.author is not None and entry.author.email == expect["author"]
    text, html = entry.body_text, entry.body_html
    for needle in expect.get("body_contains", []):
        assert needle in text, f"{needle!r} missing from:\n{text}"
    for needle in expect.get("body_excludes", []):
        assert needle not in text, f"{needle!r} should be gone from:\n{text}"
        assert needle not in html, f"{needle!r} should be gone from the HTML:\n{html}"
    for needle in expect.get("html_contains", []):
        assert needle in html, f"{needle!r} missing from HTML:\n{html}"
    for needle in expect.get("html_excludes", []):
        assert needle not in html, f"{needle!r} should be gone from the HTML:\n{html}"
    files = {a.name: a for a in entry.attachments.all()}
    if "attachments" in expect:
        assert sorted(files) == sorted(expect["attachments"])
        for attachment in files.values():
            assert attachment.size > 0 and attachment.file.read()
    for name, content_id in expect.get("inline", {}).items():
        assert files[name].content_id == content_id
    for name in expect.get("refused_attachments", []):
        assert name not in files
        assert name in text, f"the refusal of {name} is not noted on the entry:\n{text}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_corpus_message_lands_where_the_desk_expects(path, desk, mailoutbox, django_capture_on_commit_callbacks):
    spec = expectations(path)
    expect = spec["expect"]
    existing = arrange(desk, spec.get("setup", {}))
    mailoutbox.clear()
    raw = path.read_bytes()

    with django_capture_on_commit_callbacks(execute=True):
        row = inbox.ingest(raw, channel="pipe")

    row.refresh_from_db()
    assert bytes(row.raw) == raw  # the original is always kept, byte for byte
    assert row.status == expect["status"], row.reason
    assert row.processed_at is not None
    for needle in [expect["reason_contains"]] if "reason_contains" in expect else []:
        assert needle.lower() in row.reason.lower(), row.reason
    if "sender" in expect:
        assert row.sender == expect["sender"]

    wanted = expect.get("ticket")
    if wanted == "new":
        assert row.ticket is not None and row.ticket != existing
        assert row.ticket.entries.count() == 1
    elif wanted is None:
        assert row.ticket is None
    else:
        assert row.ticket is not None and row.ticket.number == wanted, row.reason
    ticket = row.ticket
    if "subject" in expect:
        assert ticket.subject == expect["subject"]
    if "requester" in expect:
        assert ticket.user.email == expect["requester"]
    if "department" in expect:
        assert ticket.department.name == expect["department"]
    if "state" in expect:
        ticket.refresh_from_db()
        assert ticket.state == expect["state"]

    if expect["status"] in (InboundStatus.TICKET, InboundStatus.REPLY):
        check_entry(row, expect)
    else:
        assert row.entry is None  # nothing was posted on any ticket
    if "event_kind" in expect:
        events = Event.objects.filter(ticket=ticket, kind=expect["event_kind"])
        assert events.count() == 1
        for needle in [expect["event_contains"]] if "event_contains" in expect else []:
            event = events.get()
            assert needle in f"{event.before} {event.after} {json.dumps(event.data)}"

    if expect["status"] in (InboundStatus.EVENT, InboundStatus.REJECTED):
        # Automatic replies, bounces and refused mail are never answered, by anyone.
        assert [m.to for m in mailoutbox] == []
    if expect.get("acknowledged", expect["status"] == InboundStatus.TICKET):
        assert any(m.to == [ticket.user.email] for m in mailoutbox), [m.to for m in mailoutbox]

    # A second delivery of the same bytes (MTA retry, IMAP seen flag lost) changes nothing.
    entries = ticket.entries.count() if ticket else 0
    events = ticket.events.count() if ticket else 0
    with django_capture_on_commit_callbacks(execute=True):
        again = inbox.ingest(raw, channel="pipe")
    assert again.pk == row.pk
    assert InboundMessage.objects.count() == 1
    if ticket:
        assert (ticket.entries.count(), ticket.events.count()) == (entries, events)


def test_the_corpus_covers_the_clients_and_outcomes_a_desk_meets():
    specs = [expectations(p) for p in FILES]
    assert len(FILES) >= 60
    assert all(p.with_suffix(".json").exists() for p in FILES)
    assert {p.stem for p in CORPUS.glob("*.json")} == {p.stem for p in FILES}, "an expectation without a message"
    statuses = {s["expect"]["status"] for s in specs}
    assert statuses == {"ticket", "reply", "event", "rejected"}
    assert {"auto_reply", "bounce"} <= {s["expect"].get("event_kind") for s in specs}


def test_a_stranger_on_a_refusing_department_is_not_added_to_the_ticket(desk):
    """The corpus message from a stranger to a refusing department leaves nobody new copied."""
    path = next(p for p in FILES if "stranger-refused" in p.stem)
    arrange(desk, expectations(path)["setup"])
    row = inbox.ingest(path.read_bytes(), channel="pipe")
    assert row.status == InboundStatus.REJECTED
    assert not row.ticket.collaborators.exists()
    assert not User.objects.filter(email=row.sender).exists()
