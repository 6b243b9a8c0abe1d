"""A real osTicket database to import from, on the MariaDB server of the test machine.

The 11,450-ticket dump (`../shared/fixtures/osticket/`, never copied into the project) is loaded
once per xdist worker into its own database and kept between sessions, with a marker table that
says which dump it holds, so later sessions skip the load. Small "crafted" sources for the edge
cases copy the dump's schema and its configuration rows (departments, statuses, agents…) and add
only the rows a test needs, through SQL, as osTicket would have written them.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pytest

from tessera.importer.service import run_import

from .helpers import HOST, PORT, USER, connect, url

ROOT = Path(__file__).resolve().parents[2]
DUMP_NAME = "shared/fixtures/osticket/osticket-1.18.1-lab.sql.gz"
PREFIX = os.environ.get("TESSERA_TEST_MARIADB_PREFIX", "ost_h_test")
# Database names are spliced into SQL (MariaDB cannot bind them): a plain identifier only.
if not re.fullmatch(r"[A-Za-z0-9_]{1,40}", PREFIX):
    raise pytest.UsageError(f"TESSERA_TEST_MARIADB_PREFIX must be letters, digits and _, not {PREFIX!r}")
# Configuration tables a crafted source copies from the dump (everything else starts empty).
CONFIG_TABLES = (
    "config", "department", "role", "staff", "staff_dept_access", "team", "team_member", "ticket_status",
    "ticket_priority", "event", "form", "form_field", "help_topic", "help_topic_form", "sla", "filter",
    "filter_rule", "filter_action", "list", "list_items", "schedule", "schedule_entry",
)  # fmt: skip


def dump_path() -> Path | None:
    """The dump beside the project (`../shared/…`), looked for up the folder tree so a git
    worktree nested one level deeper finds it too; TESSERA_OSTICKET_DUMP overrides."""
    if os.environ.get("TESSERA_OSTICKET_DUMP"):
        return Path(os.environ["TESSERA_OSTICKET_DUMP"])
    for folder in ROOT.parents:
        if (folder / DUMP_NAME).is_file():
            return folder / DUMP_NAME
    return None


def mariadb_up() -> bool:
    try:
        connect().close()
    except pymysql.MySQLError:
        return False
    return True


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


@pytest.fixture(scope="session")
def osticket_dump() -> Path:
    path = dump_path()
    if path is None:
        pytest.skip(f"the osTicket dump {DUMP_NAME} is not beside the project")
    if not mariadb_up():
        pytest.fail(f"MariaDB is not reachable at {HOST}:{PORT} (.ci/run starts it)")
    return path


@pytest.fixture(scope="session")
def osticket_db(osticket_dump: Path) -> str:
    """The dump loaded into this worker's database (once; later sessions reuse it)."""
    name = f"{PREFIX}_{_worker()}"
    stamp = f"{osticket_dump.stat().st_size}-{int(osticket_dump.stat().st_mtime)}"
    conn = connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = '_loaded'", [name]
            )
            if cursor.fetchone():
                cursor.execute(f"SELECT stamp FROM `{name}`._loaded")  # noqa: S608  names are ours
                if (cursor.fetchone() or [None])[0] == stamp:
                    return name
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        # One transaction instead of one commit per row: the dump has a statement per row.
        with (
            subprocess.Popen(
                ["mariadb", "-h", HOST, "-P", str(PORT), "-u", USER, name], stdin=subprocess.PIPE
            ) as client,
            subprocess.Popen(["zcat", str(osticket_dump)], stdout=subprocess.PIPE) as unzip,
        ):
            assert client.stdin is not None and unzip.stdout is not None
            client.stdin.write(b"SET autocommit=0; SET unique_checks=0; SET foreign_key_checks=0;\n")
            for block in iter(lambda: unzip.stdout.read(1 << 20), b""):
                client.stdin.write(block)
            client.stdin.write(b"\nCOMMIT;\n")
            client.stdin.close()
        assert client.returncode == 0, "loading the osTicket dump failed"
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE TABLE `{name}`._loaded (stamp VARCHAR(64))")
            cursor.execute(f"INSERT INTO `{name}`._loaded VALUES (%s)", [stamp])  # noqa: S608  names are ours
    finally:
        conn.close()
    return name


@dataclass
class Crafted:
    """A small osTicket database for one test: the dump's schema and configuration."""

    name: str
    _conn: Any = None
    schema_changed: bool = False

    def _cursor(self) -> Any:
        if self._conn is None:
            self._conn = connect(self.name)
        return self._conn.cursor()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    @property
    def url(self) -> str:
        return url(self.name)

    def sql(self, statement: str, params: Any = ()) -> int:
        """Run one statement; returns the new row's id for an INSERT."""
        if statement.lstrip().upper().startswith(("ALTER", "CREATE", "DROP", "RENAME")):
            self.schema_changed = True
        with self._cursor() as cursor:
            cursor.execute(statement, params or None)
            return int(cursor.lastrowid or 0)

    def rows(self, statement: str, params: Any = ()) -> list[tuple[Any, ...]]:
        with self._cursor() as cursor:
            cursor.execute(statement, params or None)
            return list(cursor.fetchall())

    def ticket(
        self,
        number: str,
        subject: str,
        *,
        user_id: int,
        status_id: int = 1,
        created: str = "2024-03-01 09:00:00",
        body: bytes | str = "Hello",
        body_format: str = "text",
        priority_id: int = 2,
    ) -> int:
        """A ticket as osTicket writes one: the row, its thread, its form answers, its first message."""
        ticket = self.sql(
            "INSERT INTO ost_ticket (number, user_id, user_email_id, status_id, dept_id, sla_id, topic_id, staff_id, "
            "team_id, email_id, lock_id, flags, sort, ip_address, source, isoverdue, isanswered, created, updated, "
            "lastupdate) VALUES (%s, %s, 0, %s, 1, 0, 1, 0, 0, 0, 0, 0, 0, '127.0.0.1', 'Web', 0, 0, %s, %s, %s)",
            [number, user_id, status_id, created, created, created],
        )
        thread = self.sql(
            "INSERT INTO ost_thread (object_id, object_type, created) VALUES (%s, 'T', %s)", [ticket, created]
        )
        entry = self.sql(
            "INSERT INTO ost_form_entry (form_id, object_id, object_type, sort, created, updated) "
            "VALUES (2, %s, 'T', 1, %s, %s)",
            [ticket, created, created],
        )
        self.sql("INSERT INTO ost_form_entry_values (entry_id, field_id, value) VALUES (%s, 20, %s)", [entry, subject])
        self.sql(
            "INSERT INTO ost_form_entry_values (entry_id, field_id, value, value_id) VALUES (%s, 22, 'Normal', %s)",
            [entry, priority_id],
        )
        self.sql(
            "INSERT INTO ost_thread_entry (pid, thread_id, staff_id, user_id, type, flags, poster, source, body, "
            "format, ip_address, created, updated) "
            "VALUES (0, %s, 0, %s, 'M', 0, 'Someone', 'Web', %s, %s, '', %s, %s)",
            [thread, user_id, body, body_format, created, created],
        )
        return ticket

    def user(self, name: str, *addresses: str, created: str = "2024-01-01 08:00:00") -> int:
        user = self.sql(
            "INSERT INTO ost_user (org_id, default_email_id, status, name, created, updated) "
            "VALUES (0, 0, 0, %s, %s, %s)",
            [name, created, created],
        )
        first = 0
        for address in addresses:
            email = self.sql("INSERT INTO ost_user_email (user_id, flags, address) VALUES (%s, 0, %s)", [user, address])
            first = first or email
        self.sql("UPDATE ost_user SET default_email_id = %s WHERE id = %s", [first, user])
        return user


@pytest.fixture
def run(settings, tmp_path):
    """An import of a crafted source into the test database, asserted free of problems; its
    report and files go to this test's own data folder."""
    settings.DATA_DIR = tmp_path / "data"

    def go(crafted: Crafted, **options: Any) -> Any:
        report, _path = run_import(crafted.url, **options)
        assert report.problems() == []
        return report

    return go


@pytest.fixture(scope="session")
def _crafted_schema(osticket_db: str) -> Iterator[dict[str, Any]]:
    """This worker's crafted database. Making 72 tables costs seconds (a file each), emptying them
    milliseconds, so the tables are made once and emptied for each test; a test that changes the
    schema (ALTER…) has them made again for the next one."""
    state: dict[str, Any] = {"tables": []}
    yield state
    _drop(f"{PREFIX}_{_worker()}_c")


def _drop(name: str) -> None:
    conn = connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


@pytest.fixture
def crafted(osticket_db: str, _crafted_schema: dict[str, Any]) -> Iterator[Crafted]:
    """An empty osTicket (configuration only) of this test's own."""
    name = f"{PREFIX}_{_worker()}_c"
    conn = connect()
    try:
        with conn.cursor() as cursor:
            if _crafted_schema["tables"]:
                for table in _crafted_schema["tables"]:
                    cursor.execute(f"DELETE FROM `{name}`.`{table}`")  # noqa: S608  names are ours
            else:
                cursor.execute(
                    "SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = %s AND table_name LIKE 'ost%%'",
                    [osticket_db],
                )
                tables = [table for (table,) in cursor.fetchall()]
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
                cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
                for table in tables:
                    cursor.execute(f"CREATE TABLE `{name}`.`{table}` LIKE `{osticket_db}`.`{table}`")
                _crafted_schema["tables"] = tables
            for table in CONFIG_TABLES:
                cursor.execute(f"INSERT INTO `{name}`.`ost_{table}` SELECT * FROM `{osticket_db}`.`ost_{table}`")  # noqa: S608  names are ours
        conn.commit()
    finally:
        conn.close()
    source = Crafted(name)
    yield source
    source.close()
    if source.schema_changed:
        _crafted_schema["tables"] = []  # made again for the next test
