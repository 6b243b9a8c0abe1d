"""Mail taken from an IMAP mailbox, against a real dovecot on 127.0.0.1: it becomes tickets where
the mailbox says, is marked read (or archived) only once it is safely on the desk, is never taken
twice, survives a database outage, and a broken mailbox is reported instead of stopping the rest.
"""

from __future__ import annotations

import threading
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest

from django.core.management import CommandError, call_command
from django.db import connection, transaction

from tessera.mail import imap
from tessera.mail.models import BannedSender, Channel, InboundMessage, InboundStatus, Mailbox, Security
from tessera.tickets.models import Source, Ticket

SEEN = r"\Seen"


def message(subject: str, *, sender: str = "Ken Adams <ken@example.com>", body: str = "Hello desk.") -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "support@example.com"
    m["Subject"] = subject
    m["Date"] = formatdate()
    m["Message-ID"] = make_msgid(domain="client.example")
    m.set_content(body)
    return m.as_bytes()


@pytest.fixture
def inbox(dovecot):
    """An empty IMAP account of this test's own."""
    return dovecot.account()


@pytest.fixture
def mailbox(desk, inbox):
    """The desk's view of that account: mail to it lands in System Administration as outages
    (not Support, where the To address alone would send it)."""
    return Mailbox.objects.create(
        name="Outages",
        address="outages@example.com",
        host=inbox.host,
        port=inbox.port,
        security=Security.PLAIN,
        username=inbox.user,
        password=inbox.password,
        department=desk.sysadmin,
        topic=desk.outage,
    )


def test_mail_in_the_inbox_becomes_tickets_in_the_mailboxs_department_and_topic(desk, inbox, mailbox):
    inbox.append(message("The VPN is down"))
    inbox.append(message("Mail server unreachable", sender="Mia <mia@example.org>"))

    result = imap.poll(mailbox)

    assert result.ok and result.taken == 2
    tickets = Ticket.objects.order_by("pk")
    assert [t.subject for t in tickets] == ["The VPN is down", "Mail server unreachable"]
    assert {t.department for t in tickets} == {desk.sysadmin}
    assert {t.topic for t in tickets} == {desk.outage}
    assert {t.source for t in tickets} == {Source.EMAIL}
    assert set(InboundMessage.objects.values_list("channel", "mailbox", "status")) == {
        (Channel.IMAP, mailbox.pk, InboundStatus.TICKET)
    }
    assert all(SEEN in flags for flags in inbox.flags())
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None and mailbox.last_error == "" and mailbox.consecutive_failures == 0


def test_the_stored_message_is_the_exact_bytes_the_server_holds(inbox, mailbox):
    raw = message("Byte for byte", body="Grüße aus Köln\n")
    inbox.append(raw)

    imap.poll(mailbox)

    assert bytes(InboundMessage.objects.get().raw).replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")


def test_processed_mail_is_moved_to_the_archive_folder_when_one_is_set(inbox, mailbox):
    mailbox.archive_folder = "Processed"
    mailbox.save()
    inbox.append(message("Disk full on db1"))

    result = imap.poll(mailbox)

    assert result.ok and result.taken == 1
    assert Ticket.objects.get().subject == "Disk full on db1"
    assert inbox.flags("INBOX") == []
    assert len(inbox.flags("Processed")) == 1


def test_mail_already_read_in_the_mailbox_is_not_taken(inbox, mailbox):
    inbox.append(message("Read by a person already"), seen=True)

    result = imap.poll(mailbox)

    assert result.ok and result.taken == 0
    assert not InboundMessage.objects.exists()
    assert not Ticket.objects.exists()


def test_polling_again_never_posts_a_message_twice(inbox, mailbox):
    inbox.append(message("Printer on fire"))
    imap.poll(mailbox)

    second = imap.poll(mailbox)

    assert second.ok and second.taken == 0
    assert Ticket.objects.count() == 1 and InboundMessage.objects.count() == 1


def test_a_message_taken_but_not_marked_read_is_not_posted_again(inbox, mailbox):
    """A crash between posting and marking it read delivers it again; it must not post twice."""
    raw = message("Crashed before the flag")
    inbox.append(raw)
    imap.poll(mailbox)
    inbox.append(raw)  # the same message, unseen again

    result = imap.poll(mailbox)

    assert result.ok and result.taken == 1
    assert Ticket.objects.count() == 1 and InboundMessage.objects.count() == 1
    assert all(SEEN in flags for flags in inbox.flags())


def test_one_poll_takes_at_most_its_limit_and_the_rest_waits(inbox, mailbox):
    for n in range(3):
        inbox.append(message(f"Outage {n}"))

    result = imap.poll(mailbox, limit=2)

    assert result.taken == 2
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Outage 0", "Outage 1"]
    assert [SEEN in flags for flags in inbox.flags()] == [True, True, False]


def test_a_wrong_password_is_recorded_on_the_mailbox_and_not_raised(inbox, mailbox):
    mailbox.password = "not the password"
    mailbox.save()
    inbox.append(message("Waiting for a working login"))

    first = imap.poll(mailbox)
    second = imap.poll(mailbox)

    assert not first.ok and not second.ok
    mailbox.refresh_from_db()
    assert "Could not read the mailbox" in mailbox.last_error
    assert "AUTHENTICATIONFAILED" in mailbox.last_error or "Authentication failed" in mailbox.last_error
    assert mailbox.consecutive_failures == 2
    assert mailbox.last_polled_at is not None
    assert not Ticket.objects.exists()
    assert [SEEN in flags for flags in inbox.flags()] == [False]

    mailbox.password = inbox.password
    mailbox.save()
    assert imap.poll(mailbox).taken == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == "" and mailbox.consecutive_failures == 0


@pytest.fixture(params=[Security.TLS, Security.STARTTLS])
def secure_mailbox(request, inbox, mailbox):
    """The same mailbox over IMAPS or STARTTLS; dovecot's certificate comes from a test CA."""
    if inbox.tls_port is None:
        pytest.skip("openssl is not installed, so the test dovecot has no certificate")
    mailbox.security = request.param
    mailbox.port = inbox.tls_port if request.param == Security.TLS else inbox.port
    mailbox.save()
    return mailbox


def test_a_tls_mailbox_takes_mail_from_a_server_whose_certificate_is_trusted(inbox, secure_mailbox, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(inbox.ca_file))  # the system's trusted CAs, as far as ssl knows
    inbox.append(message("Over an encrypted connection"))

    result = imap.poll(secure_mailbox)

    assert result.ok, result.error
    assert result.taken == 1 and Ticket.objects.get().subject == "Over an encrypted connection"


def test_a_tls_mailbox_refuses_a_server_whose_certificate_it_cannot_verify(inbox, secure_mailbox, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    inbox.append(message("Must not be read by an impostor"))

    result = imap.poll(secure_mailbox)

    assert not result.ok and "CERTIFICATE_VERIFY_FAILED" in result.error
    assert not InboundMessage.objects.exists()
    assert [SEEN in flags for flags in inbox.flags()] == [False]


def test_a_server_that_is_not_there_is_recorded(desk, mailbox):
    from tests.conftest import free_port

    mailbox.port = free_port()
    mailbox.save()

    result = imap.poll(mailbox)

    assert not result.ok and not result.database_unavailable
    mailbox.refresh_from_db()
    assert mailbox.consecutive_failures == 1 and "Could not read the mailbox" in mailbox.last_error


class HeldLock:
    """Another database session holds a write lock on received messages, the way a stuck
    migration or a long backup would, so that ingest cannot store anything: on PostgreSQL an
    ACCESS EXCLUSIVE lock plus a short lock_timeout here; on SQLite a write transaction."""

    def __init__(self):
        self.locked, self.release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self):
        from django.db import connection as own

        try:
            with transaction.atomic():
                with own.cursor() as cursor:
                    if own.vendor == "postgresql":
                        cursor.execute("LOCK TABLE mail_inboundmessage IN ACCESS EXCLUSIVE MODE")
                    else:
                        # The test database is shared-cache in memory: a write holds the table.
                        cursor.execute("UPDATE mail_inboundmessage SET attempts = attempts WHERE id < 0")
                self.locked.set()
                self.release.wait(30)
                transaction.set_rollback(True)
        finally:
            own.close()

    def __enter__(self):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '300ms'")
        self.thread.start()
        assert self.locked.wait(10)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(10)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_leaves_the_message_unseen_for_the_next_poll(inbox, mailbox):
    inbox.append(message("Arrived while the database was locked"))

    with HeldLock():
        during = imap.poll(mailbox)

    assert not during.ok and during.database_unavailable, during.error
    assert during.taken == 0
    assert [SEEN in flags for flags in inbox.flags()] == [False]
    assert not Ticket.objects.exists()

    after = imap.poll(mailbox)

    assert after.ok and after.taken == 1
    assert Ticket.objects.get().subject == "Arrived while the database was locked"
    assert [SEEN in flags for flags in inbox.flags()] == [True]


def test_poll_mailboxes_reports_each_mailbox_and_carries_on_past_a_broken_one(desk, inbox, mailbox, capsys):
    Mailbox.objects.create(
        name="Broken",
        address="broken@example.com",
        host=inbox.host,
        port=inbox.port,
        security=Security.PLAIN,
        username=inbox.user,
        password="wrong",
        department=desk.support,
    )
    Mailbox.objects.create(
        name="Switched off",
        address="off@example.com",
        host="127.0.0.1",
        port=1,
        username="x",
        department=desk.support,
        is_active=False,
    )
    inbox.append(message("Router blinking"))
    inbox.append(message("Switch dead"))

    call_command("poll_mailboxes")

    out, err = capsys.readouterr()
    assert "broken@example.com: 0 new, 1 errors" in out
    assert "outages@example.com: 2 new, 0 errors" in out
    assert "off@example.com" not in out
    assert "broken@example.com: Could not read the mailbox" in err
    assert Ticket.objects.count() == 2


def test_poll_mailboxes_fails_when_every_mailbox_failed(inbox, mailbox):
    mailbox.password = "wrong"
    mailbox.save()

    with pytest.raises(CommandError):
        call_command("poll_mailboxes")


def test_poll_mailboxes_can_poll_a_single_mailbox_by_name(desk, inbox, mailbox, capsys):
    inbox.append(message("Only this one"))

    call_command("poll_mailboxes", "--mailbox", "Outages")

    assert "outages@example.com: 1 new, 0 errors" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("poll_mailboxes", "--mailbox", "Nope")


# Between rounds the loop drops stale database connections, which would end a test transaction.
@pytest.mark.django_db(transaction=True)
def test_poll_mailboxes_loop_keeps_polling_until_stopped(inbox, mailbox, monkeypatch, capsys):
    from tessera.mail.management.commands import poll_mailboxes

    waits = []

    def between_polls(seconds):
        waits.append(seconds)
        if len(waits) == 1:
            inbox.append(message("Arrived between two polls"))
            return
        raise KeyboardInterrupt  # the operator stops the service

    monkeypatch.setattr(poll_mailboxes.time, "sleep", between_polls)
    inbox.append(message("Arrived before the first poll"))

    call_command("poll_mailboxes", "--loop", "--every", "7")

    assert waits == [7, 7]
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "Arrived before the first poll",
        "Arrived between two polls",
    ]
    assert capsys.readouterr().out.count("outages@example.com: 1 new, 0 errors") == 2


def test_refused_mail_is_kept_and_marked_read_without_a_ticket(inbox, mailbox):
    BannedSender.objects.create(pattern="spam.example", reason="Spam")
    inbox.append(message("Cheap watches", sender="Offers <deals@spam.example>"))

    result = imap.poll(mailbox)

    assert result.ok and result.taken == 1
    assert InboundMessage.objects.get().status == InboundStatus.REJECTED
    assert not Ticket.objects.exists()
    assert [SEEN in flags for flags in inbox.flags()] == [True]
