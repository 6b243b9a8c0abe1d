"""Ticket numbers: what customers quote on the phone. Unique, sequential, and safe under concurrent intake."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from django.db import connection, connections, transaction

from tessera.tickets import services
from tessera.tickets.models import Ticket

THREADS = 8
TICKETS_PER_THREAD = 3


def _open(desk, subject="Printer jams"):
    return services.open_ticket(desk.ken, requester=desk.ken, subject=subject, message="Hi", topic=desk.general)


def test_numbers_start_at_the_first_ticket_number_and_go_up_by_one(desk):
    numbers = [_open(desk, f"Ticket {i}").number for i in range(5)]

    first = services.FIRST_TICKET_NUMBER
    assert numbers == list(range(first, first + 5))
    assert len(set(Ticket.objects.values_list("number", flat=True))) == 5


def test_a_ticket_that_was_rolled_back_gives_its_number_back(desk):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        _open(desk)
        raise Abort

    assert _open(desk).number == services.FIRST_TICKET_NUMBER


def test_numbers_continue_after_existing_tickets_whatever_the_order_of_creation(desk):
    first = _open(desk)
    Ticket.objects.filter(pk=first.pk).delete()  # numbers are never reused, even after a deletion

    assert _open(desk).number == first.number + 1


@pytest.fixture
def file_backed_sqlite(tmp_path):
    """Run the test against a SQLite *file*, as Tessera does in production.

    pytest-django's SQLite test database lives in memory with a shared cache. There, SQLite
    locks whole tables and answers a second writer at once with "database table is locked"
    (SQLITE_LOCKED) without honouring the busy timeout, so without this fixture the test fails
    on SQLite for a reason that belongs to the test set-up, not to Tessera. With a file, writers
    queue behind each other exactly as in production (settings: WAL, timeout 20 s, BEGIN
    IMMEDIATE). So for this one test the connection is pointed at a copy of the test database in
    a file, and the in-memory one is kept alive and restored. On PostgreSQL it does nothing.
    """
    conn = connections["default"]
    if conn.vendor != "sqlite" or not conn.is_in_memory_db():
        yield
        return
    conn.ensure_connection()
    in_memory = conn.settings_dict["NAME"]
    keep_alive = sqlite3.connect(in_memory, uri=True)  # the in-memory database dies with its last connection
    path = tmp_path / "concurrency.sqlite3"
    copy = sqlite3.connect(path)
    conn.connection.backup(copy)
    # A production database is already in WAL mode (it persists from the first `migrate`). A fresh
    # file is not, and eight connections switching it at the same instant get an immediate
    # "database is locked" that no busy timeout covers, so switch it once, here, as migrate would.
    copy.execute("PRAGMA journal_mode=WAL")
    copy.close()
    # Django ignores close() on an in-memory database, so rename first, then close for real:
    # the next connection, in this thread and in every other, opens the file.
    conn.settings_dict["NAME"] = str(path)
    conn.close()
    try:
        assert not conn.is_in_memory_db()
        yield
    finally:
        conn.close()
        conn.settings_dict["NAME"] = in_memory
        conn.ensure_connection()  # back on the in-memory database before its last other connection goes
        keep_alive.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_intake_never_hands_out_a_number_twice(desk, file_backed_sqlite):
    start = threading.Barrier(THREADS)
    numbers: list[int] = []
    errors: list[str] = []

    def intake(worker: int) -> None:
        try:
            start.wait(timeout=10)
            for i in range(TICKETS_PER_THREAD):
                numbers.append(_open(desk, f"Worker {worker} ticket {i}").number)  # noqa: PERF401  each number is kept as soon as it is taken, before a later one fails
        except Exception as exc:  # collected and asserted on below, in the main thread
            errors.append(f"worker {worker}: {exc!r}")
        finally:
            connection.close()  # each thread has its own connection; leave none open

    workers = [threading.Thread(target=intake, args=(w,)) for w in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)

    assert not errors
    total = THREADS * TICKETS_PER_THREAD
    assert len(numbers) == total
    first = services.FIRST_TICKET_NUMBER
    assert sorted(numbers) == list(range(first, first + total))  # distinct, and no gaps
    assert Ticket.objects.count() == total
