"""A run killed with SIGKILL half-way, then run again, ends exactly where one clean run does:
every batch commits with its id-map rows, so nothing is imported twice and nothing is lost.

The command runs as its own process on a SQLite file (the test database is not reachable from
another process), so the kill is a real one."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from .helpers import ROOT

TICKETS = 240


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update({"TESSERA_DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data / 'tessera.sqlite3'}"})
    return env


def _manage(data: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=_env(data),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _state(database: Path) -> list[tuple[object, ...]]:
    """What the import left, comparable between two databases."""
    with sqlite3.connect(database) as conn:
        return [
            *conn.execute(
                "SELECT t.number, t.subject, t.state, "
                "(SELECT COUNT(*) FROM tickets_threadentry e WHERE e.ticket_id = t.id), "
                "(SELECT COUNT(*) FROM tickets_event v WHERE v.ticket_id = t.id) "
                "FROM tickets_ticket t ORDER BY t.number"
            ),
            *conn.execute(
                "SELECT source_table, COUNT(*), COUNT(DISTINCT source_id) FROM importer_idmap GROUP BY 1 ORDER BY 1"
            ),
            *conn.execute("SELECT email FROM accounts_user ORDER BY email"),
        ]


def _imported_tickets(database: Path) -> int:
    try:
        with sqlite3.connect(database, timeout=0.2) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM importer_idmap WHERE source_table = 'ticket'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_a_run_killed_mid_way_then_run_again_equals_one_clean_run(crafted, tmp_path, migrated_sqlite):
    ann = crafted.user("Ann", "ann@example.net")
    for n in range(TICKETS):
        crafted.ticket(str(700000 + n), f"Ticket {n}", user_id=ann)
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    killed.mkdir()
    shutil.copyfile(migrated_sqlite, killed / "tessera.sqlite3")
    shutil.copytree(killed, clean)
    command = ("import_osticket", "--source", crafted.url, "--batch-size", "2")

    run = _manage(killed, *command)
    database = killed / "tessera.sqlite3"
    deadline = time.monotonic() + 300
    while _imported_tickets(database) < TICKETS // 4 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert run.poll() is None, "the import ended before it could be killed"
    os.kill(run.pid, signal.SIGKILL)
    assert run.wait() == -signal.SIGKILL
    assert 0 < _imported_tickets(database) < TICKETS

    again = _manage(killed, *command)
    assert again.wait(timeout=300) == 0, again.stderr.read() if again.stderr else ""
    once = _manage(clean, *command)
    assert once.wait(timeout=300) == 0, once.stderr.read() if once.stderr else ""

    assert _imported_tickets(database) == TICKETS
    assert _state(database) == _state(clean / "tessera.sqlite3")
