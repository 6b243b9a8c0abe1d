"""`manage.py ingest_email`, run as the mail server runs it: a real process, the message on
stdin, and an exit status the mail server acts on (0 stored, 65 not mail, 75 try again later).

The command runs against the test database itself (committed data: transactional_db). SQLite's
test database lives in memory, out of a subprocess's reach, so there the command gets its own
migrated database file and the test reads it back with sqlite3.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from django.db import connection

from tests.mail.test_ingest import mail

# The module-scoped desk is made once: xdist keeps these tests on one worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("ingest_command")

ROOT = Path(__file__).resolve().parents[2]
EX_DATAERR, EX_TEMPFAIL = 65, 75


def command_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=database_url,
        TESSERA_DATA_DIR=str(tmp_path / "data"),
        TESSERA_MEDIA_DIR=str(tmp_path / "media"),
        DJANGO_SETTINGS_MODULE="tessera.settings",
    )
    return env


def manage(env: dict[str, str], *args: str, stdin: bytes = b"", timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], input=stdin, env=env, cwd=ROOT, capture_output=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def sqlite_desk(tmp_path_factory, migrated_sqlite) -> Path:
    """A migrated SQLite file with a Support desk, made once and copied for each test."""
    folder = tmp_path_factory.mktemp("pipe")
    path = folder / "desk.sqlite3"
    shutil.copyfile(migrated_sqlite, path)
    env = command_env(folder, f"sqlite:///{path}")
    seeded = manage(env, "shell", "-c", SEED, timeout=120)
    assert seeded.returncode == 0, seeded.stderr.decode()
    return path


@pytest.fixture
def pipe(transactional_db, tmp_path, request):
    """Run ingest_email against a database the test can read, and read its received messages."""
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        env = command_env(tmp_path, url)

        def rows():
            from tessera.mail.models import InboundMessage

            return list(InboundMessage.objects.order_by("pk").values_list("status", "subject", "attempts"))

        def tickets():
            from tessera.tickets.models import Ticket

            return list(Ticket.objects.values_list("subject", flat=True))
    else:
        path = tmp_path / "pipe.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_desk"), path)
        env = command_env(tmp_path, f"sqlite:///{path}")

        def query(sql):
            with sqlite3.connect(path) as db:
                return db.execute(sql).fetchall()

        def rows():
            return query("SELECT status, subject, attempts FROM mail_inboundmessage ORDER BY id")

        def tickets():
            return [r[0] for r in query("SELECT subject FROM tickets_ticket")]

    def run(raw: bytes, *args: str):
        return manage(env, "ingest_email", *args, stdin=raw)

    run.env, run.rows, run.tickets = env, rows, tickets
    return run


SEED = """
from tessera.accounts.models import Department, Role
from tessera.tickets.defaults import ensure_defaults
from tessera.tickets.models import HelpTopic, Priority, Status

ensure_defaults(Priority, Status, Role)
support = Department.objects.create(name="Support", email="support@example.com")
HelpTopic.objects.create(name="General question", department=support)
"""


@pytest.fixture
def seeded(pipe):
    """On PostgreSQL the test database is shared: give it the desk the SQLite file got."""
    if connection.vendor == "postgresql":
        from tessera.accounts.models import Department, Role
        from tessera.tickets.defaults import ensure_defaults
        from tessera.tickets.models import HelpTopic, Priority, Status

        ensure_defaults(Priority, Status, Role)
        support = Department.objects.create(name="Support", email="support@example.com")
        HelpTopic.objects.create(name="General question", department=support)
    return pipe


def test_a_message_piped_in_is_stored_and_opens_a_ticket_silently(seeded):
    done = seeded(mail(sender="nora@customer.example", subject="Piped in"))
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b""
    assert seeded.rows() == [("ticket", "Piped in", 1)]
    assert seeded.tickets() == ["Piped in"]


def test_the_same_message_piped_twice_is_stored_once(seeded):
    raw = mail(sender="nora@customer.example", subject="Twice", message_id="<twice@client.example>")
    assert seeded(raw).returncode == 0
    again = seeded(raw, "-v", "2")
    assert again.returncode == 0 and b"Opened a ticket" in again.stdout
    assert len(seeded.rows()) == 1 and seeded.tickets() == ["Twice"]


def test_input_that_is_not_mail_exits_65_and_is_still_kept(seeded):
    done = seeded(b"\x00\x01\x02 binary garbage, no headers")
    assert done.returncode == EX_DATAERR
    assert [r[0] for r in seeded.rows()] == ["rejected"]


def test_refused_mail_is_still_stored_and_exits_0(seeded):
    done = seeded(mail(sender="bot@vendor.example", subject="Digest", headers={"Precedence": "bulk"}))
    assert done.returncode == 0
    assert [r[0] for r in seeded.rows()] == ["rejected"] and seeded.tickets() == []


def test_when_the_database_is_unreachable_the_mail_server_is_told_to_retry(tmp_path):
    env = command_env(tmp_path, "postgres://postgres@127.0.0.1:1/unreachable")
    done = manage(env, "ingest_email", stdin=mail(subject="Later"))
    assert done.returncode == EX_TEMPFAIL, done.stderr.decode()
    assert b"database is unavailable" in done.stderr


@pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""), reason="needs PostgreSQL row locks across processes"
)
def test_an_ingest_killed_mid_way_is_completed_by_the_next_delivery_exactly_once(seeded, tmp_path):
    import psycopg

    from tessera.accounts.services import end_user_for_email
    from tessera.mail.models import InboundMessage
    from tessera.tickets import services
    from tessera.tickets.models import Counter, HelpTopic, Ticket

    # A first ticket makes the ticket counter row exist; the blocker then holds it, so the
    # ingest's second transaction (which numbers the new ticket) waits there.
    ken = end_user_for_email(email="ken@example.com", name="Ken")
    services.open_ticket(ken, requester=ken, subject="First", message="x", topic=HelpTopic.objects.get())
    assert Counter.objects.filter(name="ticket").exists()
    s = connection.settings_dict
    blocker = psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"], dbname=s["NAME"])
    blocker.execute("SELECT value FROM tickets_counter WHERE name = 'ticket' FOR UPDATE")

    raw = mail(sender="nora@customer.example", subject="Crash me", message_id="<crash@client.example>")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "ingest_email"], stdin=subprocess.PIPE, env=seeded.env, cwd=ROOT
    )
    proc.stdin.write(raw)
    proc.stdin.close()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # Asked on the test's own connection: the blocker's open transaction sees a frozen
            # snapshot of pg_stat_activity.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                waiting = cursor.fetchone()[0]
            if waiting and InboundMessage.objects.filter(subject="Crash me").exists():
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the ingest never reached the ticket counter")
        assert InboundMessage.objects.get(subject="Crash me").status == "pending"  # raw bytes already committed
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        blocker.rollback()  # release the counter row
        blocker.close()

    done = seeded(raw)
    assert done.returncode == 0, done.stderr.decode()
    row = InboundMessage.objects.get(subject="Crash me")
    assert InboundMessage.objects.filter(subject="Crash me").count() == 1
    assert row.status == "ticket" and row.attempts == 2
    assert Ticket.objects.filter(subject="Crash me").count() == 1
