"""`manage.py serve_lmtp`, as a mail server uses it: real server processes on 127.0.0.1, Python's
own LMTP client, real MIME. The mail server is answered once per recipient: 250 when the
message is stored (and it becomes a ticket once, however often it arrives), 451 to try again
later, 550 for input that is not mail, 552 over the size ceiling.

The servers run against the test database itself on PostgreSQL (committed data, seeded once for
the module and emptied after it); SQLite's test database lives in memory, so there they get a
migrated file of their own. The module's tests share that desk and one server, and tell their
messages apart by subject, sender and the received-message id each reply names.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import select
import shutil
import signal
import smtplib
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from django.core.management import call_command
from django.db import connection

from tests.conftest import free_port
from tests.mail.test_ingest import mail
from tests.mail.test_ingest_command import command_env, manage

ROOT = Path(__file__).resolve().parents[2]
MAX_BYTES = 64 * 1024  # the servers' pipeline limit; their protocol ceiling is twice that
READY = re.compile(rb"Listening for LMTP on (\S+), (\d+) workers?")
STORED = re.compile(r"received message (\d+)")

# The tests read what the servers committed; the desk itself is made once for the module.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("lmtp")]  # one desk, one server

SEED = "from tests.mail.test_lmtp import seed_desk; seed_desk()"


def seed_desk() -> None:
    """The desk the servers take mail for: Support (support@), System Administration with its
    own mailbox address (ops@), and a help topic for mail sent elsewhere."""
    from tessera.accounts.models import Department, Role
    from tessera.mail.models import Mailbox
    from tessera.tickets.defaults import ensure_defaults
    from tessera.tickets.models import HelpTopic, Priority, Status

    ensure_defaults(Priority, Status, Role)
    support = Department.objects.create(name="Support", email="support@example.com")
    sysadmin = Department.objects.create(name="System Administration", email="sysadmin@example.com")
    HelpTopic.objects.create(name="General question", department=support)
    Mailbox.objects.create(name="ops", address="Ops@Example.com", host="127.0.0.1", username="ops", department=sysadmin)


# ---------------------------------------------------------------------------- servers


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (the server's workers), read from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie is dead, only not yet reaped by whoever inherited it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@dataclass
class Server:
    proc: subprocess.Popen
    where: str  # host:port, or the unix socket's path
    log: Path

    def connect(self) -> smtplib.LMTP:
        if self.where.startswith("/"):
            return smtplib.LMTP(self.where, timeout=30)
        host, port = self.where.rsplit(":", 1)
        return smtplib.LMTP(host, int(port), timeout=30)

    def workers(self) -> set[int]:
        return children(self.proc.pid)

    def stop(self) -> int | None:
        """SIGTERM, as a service manager stops it; the exit status (None: it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for pid in self.workers():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait(timeout=10)
            return None
        finally:
            self.proc.stdout.close()


def start(env: dict[str, str], log: Path, *args: str, workers: int = 2) -> Server:
    """Start serve_lmtp and wait for the line that says it is listening."""
    cmd = [sys.executable, "manage.py", "serve_lmtp", "--workers", str(workers), *args]
    if "--socket" not in args:
        cmd += ["--port", "0"]
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=err)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline() if ready else b""
    found = READY.match(line)
    if not found:
        proc.kill()
        proc.wait(timeout=10)
        raise AssertionError(f"serve_lmtp did not start: {line!r}\n{log.read_text()}")
    return Server(proc, found[1].decode(), log)


def send(
    server: Server, raw: bytes, recipients: tuple[str, ...] = ("support@example.com",), sender: str = "mta@example.org"
) -> list[tuple[int, str]]:
    """Deliver one message as a mail server does; one reply per recipient."""
    with server.connect() as client:
        return transfer(client, raw, recipients, sender)


def transfer(client: smtplib.LMTP, raw: bytes, recipients: tuple[str, ...], sender: str) -> list[tuple[int, str]]:
    client.ehlo_or_helo_if_needed()  # LHLO
    assert client.mail(sender)[0] == 250
    for address in recipients:
        assert client.rcpt(address)[0] == 250
    replies = [client.data(on_the_wire(raw))]
    replies += [client.getreply() for _ in recipients[1:]]  # smtplib reads only the first
    return [(code, text.decode()) for code, text in replies]


def on_the_wire(raw: bytes) -> bytes:
    """Lines end in CRLF in SMTP and LMTP, as a mail server sends them; smtplib leaves bytes as
    they are."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def stored_pk(reply: tuple[int, str]) -> int:
    found = STORED.search(reply[1])
    assert found, reply
    return int(found[1])


# ---------------------------------------------------------------------------- the desk


class Desk:
    """What the servers stored, read from their database."""

    def __init__(self, url: str, path: Path | None) -> None:
        self.url, self.path = url, path

    def query(self, sql: str, *params) -> list[tuple]:
        if self.path is None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            return db.execute(sql.replace("%s", "?"), params).fetchall()

    def message(self, pk: int) -> dict:
        """One received message, with the ticket it became (if any) and that ticket's department."""
        row = self.query(
            "SELECT m.status, m.channel, m.reason, m.raw, t.subject, d.name FROM mail_inboundmessage m"
            " LEFT JOIN tickets_ticket t ON t.id = m.ticket_id"
            " LEFT JOIN accounts_department d ON d.id = t.department_id WHERE m.id = %s",
            pk,
        )[0]
        return dict(zip(("status", "channel", "reason", "raw", "ticket", "department"), row, strict=True))

    def tickets(self, subject: str) -> int:
        return self.query("SELECT count(*) FROM tickets_ticket WHERE subject = %s", subject)[0][0]

    def messages(self, message_id: str) -> int:
        bare = message_id.strip("<>")
        return self.query("SELECT count(*) FROM mail_inboundmessage WHERE message_id = %s", bare)[0][0]

    @contextlib.contextmanager
    def restarting(self):
        """PostgreSQL as during a restart: every connection the servers hold is cut and new ones
        are refused; afterwards it takes connections again. The test's own connection is spared."""
        name = connection.settings_dict["NAME"]
        ours = self.query("SELECT pg_backend_pid()")[0][0]
        postgres_admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            postgres_admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s", name, ours
            )
            yield
        finally:
            postgres_admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


def postgres_admin(sql: str, *params) -> None:
    """Speak about the test database from the maintenance database: a database cannot close
    itself to connections."""
    import psycopg

    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"], dbname="postgres", autocommit=True
    ) as admin:
        admin.execute(sql, params)


def server_env(folder: Path, url: str) -> dict[str, str]:
    return {**command_env(folder, url), "TESSERA_MAIL_MAX_MESSAGE_BYTES": str(MAX_BYTES)}


@pytest.fixture(scope="module")
def desk(django_db_setup, django_db_blocker, tmp_path_factory, migrated_sqlite):
    """The desk, seeded once for the module, as a long-running server sees a real one (it keeps
    reference rows in memory a while: a desk emptied and made again under it would confuse it).

    PostgreSQL: the test database itself, emptied again after the module for the tests after
    it. SQLite: a migrated file of its own."""
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        with django_db_blocker.unblock():
            seed_desk()
        yield Desk(url, None)
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)
        return
    path = tmp_path_factory.mktemp("lmtp-desk") / "desk.sqlite3"
    shutil.copyfile(migrated_sqlite, path)
    done = manage(server_env(path.parent, f"sqlite:///{path}"), "shell", "-c", SEED, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    yield Desk(f"sqlite:///{path}", path)


@pytest.fixture(scope="module")
def lmtp(desk, tmp_path_factory):
    """One server with two workers for every test that does not stop it."""
    folder = tmp_path_factory.mktemp("lmtp-server")
    server = start(server_env(folder, desk.url), folder / "server.log")
    yield server
    assert server.stop() == 0, server.log.read_text()


@pytest.fixture
def own_server(desk, tmp_path):
    """A server of the test's own, to stop or break."""
    servers = []

    def run(*args: str, database_url: str | None = None) -> Server:
        env = server_env(tmp_path, database_url or desk.url)
        servers.append(start(env, tmp_path / f"server{len(servers)}.log", *args))
        return servers[-1]

    yield run
    for server in servers:
        server.stop()


# ---------------------------------------------------------------------------- delivering


def test_a_message_delivered_over_lmtp_opens_a_ticket(lmtp, desk):
    raw = mail(sender="Nora <nora@customer.example>", subject="VPN down since 9am")
    [reply] = send(lmtp, raw)
    assert reply[0] == 250 and reply[1].startswith("2.0.0 ")
    got = desk.message(stored_pk(reply))
    assert (got["status"], got["channel"], got["ticket"]) == ("ticket", "lmtp", "VPN down since 9am")
    assert bytes(got["raw"]) == on_the_wire(raw)  # the bytes as they arrived, not a re-encoding


def test_lines_starting_with_a_dot_arrive_as_written_and_a_lone_dot_does_not_end_the_message(lmtp, desk):
    # The mail server doubles a leading dot on the wire (smtplib does too); the desk must undo it.
    body = b"Steps:\r\n.\r\n..two dots\r\n.hidden file\r\nThe end.\r\n"
    raw = b"From: ida@customer.example\r\nTo: support@example.com\r\nSubject: Dots\r\n\r\n" + body
    [reply] = send(lmtp, raw)
    assert reply[0] == 250
    assert bytes(desk.message(stored_pk(reply))["raw"]) == raw


def test_a_message_larger_than_one_read_arrives_whole(lmtp, desk):
    # DATA is read 64 KiB at a time; this one (about 108 KB) takes several reads. It is over this
    # server's pipeline limit, so it is kept as refused, but the bytes kept must be all of them.
    raw = mail(
        sender="pia@customer.example",
        subject="Log attached",
        attachments=(("trace.pdf", os.urandom(80_000), "application/pdf"),),
    )
    [reply] = send(lmtp, raw)
    assert reply[0] == 250
    assert bytes(desk.message(stored_pk(reply))["raw"]) == on_the_wire(raw)


def test_a_message_for_two_recipients_opens_one_ticket_and_answers_each(lmtp, desk):
    raw = mail(sender="omar@customer.example", subject="Two addresses", to="support@example.com, help@example.com")
    replies = send(lmtp, raw, ("support@example.com", "help@example.com"))
    assert [code for code, _ in replies] == [250, 250]
    assert replies[0] == replies[1]  # the same stored message
    assert desk.tickets("Two addresses") == 1


def test_a_second_delivery_of_the_same_message_changes_nothing(lmtp, desk):
    raw = mail(sender="pia@customer.example", subject="Sent twice", message_id="<twice@lmtp.example>")
    first = send(lmtp, raw)
    again = send(lmtp, raw)
    assert first == again and first[0][0] == 250
    assert desk.messages("<twice@lmtp.example>") == 1 and desk.tickets("Sent twice") == 1


def test_a_bounce_with_an_empty_sender_is_taken(lmtp, desk):
    raw = mail(sender="MAILER-DAEMON@mx.example", subject="Undelivered Mail Returned to Sender")
    [reply] = send(lmtp, raw, sender="")
    assert reply[0] == 250


def test_input_that_is_not_mail_is_refused_for_good_but_still_kept(lmtp, desk):
    garbage = b"\x00\x01\x02 binary garbage, no headers\r\n"
    [reply] = send(lmtp, garbage)
    assert reply[0] == 550 and reply[1].startswith("5.6.0 ")
    got = desk.message(stored_pk(reply))
    assert got["status"] == "rejected" and bytes(got["raw"]) == garbage


def test_mail_to_a_mailbox_address_lands_in_that_mailboxs_department(lmtp, desk):
    # The headers name Support; the mail server delivers it to the ops@ mailbox's address.
    raw = mail(sender="quinn@customer.example", subject="Disk full on db1", to="support@example.com")
    [reply] = send(lmtp, raw, ("ops@example.com",))
    assert desk.message(stored_pk(reply))["department"] == "System Administration"

    raw = mail(sender="quinn@customer.example", subject="Printer on floor 2", to="support@example.com")
    [reply] = send(lmtp, raw, ("someone-else@example.com",))
    assert desk.message(stored_pk(reply))["department"] == "Support"  # routed by the headers


def test_mail_over_the_size_limit_is_kept_and_beyond_the_ceiling_refused(lmtp, desk):
    big = mail(sender="rita@customer.example", subject="Scan attached", body="x" * 70 * 1024)
    [reply] = send(lmtp, big)
    got = desk.message(stored_pk(reply))
    assert reply[0] == 250 and got["status"] == "rejected" and "bytes" in got["reason"]

    huge = mail(sender="rita@customer.example", subject="Whole archive", body="y\n" * 70 * 1024)
    recipients = ("support@example.com", "help@example.com")
    with lmtp.connect() as client:
        replies = transfer(client, huge, recipients, "mta@example.org")
        assert [(code, text.split()[0]) for code, text in replies] == [(552, "5.3.4")] * 2  # one per recipient
        assert client.noop()[0] == 250  # and the conversation is still in step
    assert desk.tickets("Whole archive") == 0


def test_a_message_with_an_overlong_line_is_kept_not_bounced(lmtp, desk):
    # RFC 5321 allows 1,000 octets a line; a broken mailer's message is still a customer's.
    raw = b"From: vic@customer.example\r\nTo: support@example.com\r\nSubject: One long line\r\n\r\n"
    [reply] = send(lmtp, raw + b"z" * 5000 + b"\r\n")
    assert reply[0] == 250 and desk.tickets("One long line") == 1


def test_when_the_database_is_unreachable_the_mail_server_is_told_to_retry(own_server):
    unreachable = f"postgres://postgres@127.0.0.1:{free_port()}/tessera_lmtp_helper_unreachable"
    server = own_server(database_url=unreachable)
    replies = send(server, mail(subject="Later"), ("support@example.com", "help@example.com"))
    assert [(code, text.split()[0]) for code, text in replies] == [(451, "4.3.0"), (451, "4.3.0")]
    assert "database unavailable" in server.log.read_text()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no database server to restart")
def test_mail_during_a_database_restart_is_deferred_then_taken_without_restarting_the_server(lmtp, desk):
    raw = mail(sender="sam@customer.example", subject="During the restart")
    [first] = send(lmtp, mail(sender="sam@customer.example", subject="Before the restart"))
    assert first[0] == 250  # the workers hold their connections now
    with desk.restarting():
        [deferred] = send(lmtp, raw)
    assert deferred[0] == 451 and desk.tickets("During the restart") == 0

    [retried] = send(lmtp, raw)  # the mail server retries later
    assert retried[0] == 250 and desk.tickets("During the restart") == 1


def test_many_messages_over_concurrent_connections_each_land_exactly_once(lmtp, desk):
    batch = [
        mail(sender=f"batch{n}@customer.example", subject=f"Batch {n}", message_id=f"<batch-{n}@lmtp.example>")
        for n in range(20)
    ]
    deliveries = batch * 2  # the mail server may deliver a message again (after a timeout)
    random.Random(7).shuffle(deliveries)
    replies: dict[bytes, set[tuple[int, str]]] = {raw: set() for raw in batch}

    def connection_(share: list[bytes]) -> None:
        with lmtp.connect() as client:
            for raw in share:
                replies[raw].update(transfer(client, raw, ("support@example.com",), "mta@example.org"))

    threads = [threading.Thread(target=connection_, args=(deliveries[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(len(r) == 1 and next(iter(r))[0] == 250 for r in replies.values()), replies
    assert len({stored_pk(next(iter(r))) for r in replies.values()}) == 20
    for n in range(20):
        assert desk.messages(f"<batch-{n}@lmtp.example>") == 1 and desk.tickets(f"Batch {n}") == 1


# ---------------------------------------------------------------------------- running it


def test_a_worker_that_dies_is_replaced_and_mail_keeps_flowing(own_server, desk):
    server = own_server()
    deadline = time.monotonic() + 30
    while len(server.workers()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    first = server.workers()
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    [reply] = send(server, mail(sender="tom@customer.example", subject="While one worker is down"))
    assert reply[0] == 250

    while not (len(now := server.workers()) == 2 and victim not in now) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(now) == 2 and victim not in now
    assert f"LMTP worker {victim} stopped" in server.log.read_text()


def test_sigterm_stops_the_server_and_every_worker(own_server, desk, tmp_path):
    path = tmp_path / "lmtp.sock"
    server = own_server("--socket", str(path))
    [reply] = send(server, mail(sender="uma@customer.example", subject="Over the unix socket"))
    assert reply[0] == 250 and desk.tickets("Over the unix socket") == 1
    deadline = time.monotonic() + 30
    while len(server.workers()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = server.workers()
    assert len(workers) == 2

    assert server.stop() == 0
    assert not any(alive(pid) for pid in workers)
    assert not path.exists()


def test_workers_stop_when_their_supervisor_is_killed(own_server):
    server = own_server()
    deadline = time.monotonic() + 30
    while len(server.workers()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = server.workers()
    server.proc.kill()  # SIGKILL: no chance to stop them itself
    server.proc.wait(timeout=10)
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)
