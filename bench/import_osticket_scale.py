"""Peak memory and throughput of `import_osticket` on an osTicket scaled up to N tickets.

    python -m bench.import_osticket_scale --base ost_h_fixture --tickets 200000

Copies the loaded lab dump (`--base`, a MariaDB database holding it) into a scratch database and
duplicates its ticket rows there with `INSERT … SELECT` until it holds `--tickets` tickets: each
copy shifts every id (ticket, thread, entry, event, form entry, attachment…) by the base's
highest id times the copy's number, and the ticket number by a million times it, so the copies
are new, distinct tickets with the same people, configuration and files. Then it creates and
migrates a scratch PostgreSQL database, runs `bench.import_osticket` against the scaled source
in a child process, and prints that child's peak RSS (its rusage from wait4) and tickets/s.
Both scratch databases are dropped at the end unless `--keep`.

Why a child process: the import's memory is what is measured, not this script's.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pymysql  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
HOST, PORT, USER = "127.0.0.1", 3306, "root"
PG = "postgres://postgres@127.0.0.1:5432"

# Each table a copy duplicates: its id column, the columns shifted with another table's offset,
# and which rows (only what hangs off a ticket is copied; people and configuration are shared).
# `{t}` is a table name with the prefix, `{i}` the copy's number.
COPIES: list[tuple[str, str]] = [
    (
        "ticket",
        "INSERT INTO {db}.{p}ticket SELECT ticket_id + {o_ticket}, "
        "IF(ticket_pid, ticket_pid + {o_ticket}, ticket_pid), "
        "CAST(CAST(number AS UNSIGNED) + {i} * 1000000 AS CHAR), user_id, user_email_id, status_id, dept_id, sla_id, "
        "topic_id, staff_id, team_id, email_id, 0, flags, sort, ip_address, source, source_extra, isoverdue, "
        "isanswered, duedate, est_duedate, reopened, closed, lastupdate, created, updated FROM {base}.{p}ticket",
    ),
    (
        "thread",
        "INSERT INTO {db}.{p}thread SELECT id + {o_thread}, object_id + {o_ticket}, object_type, extra, lastresponse, "
        "lastmessage, created FROM {base}.{p}thread WHERE object_type IN ('T', 'C')",
    ),
    (
        "thread_entry",
        "INSERT INTO {db}.{p}thread_entry SELECT e.id + {o_thread_entry}, IF(e.pid, e.pid + {o_thread_entry}, 0), "
        "e.thread_id + {o_thread}, e.staff_id, e.user_id, e.type, e.flags, e.poster, e.editor, e.editor_type, "
        "e.source, e.title, e.body, e.format, e.ip_address, e.extra, e.recipients, e.created, e.updated "
        "FROM {base}.{p}thread_entry e JOIN {base}.{p}thread t ON t.id = e.thread_id AND t.object_type IN ('T', 'C')",
    ),
    (
        "thread_entry_email",
        "INSERT INTO {db}.{p}thread_entry_email SELECT m.id + {o_thread_entry_email}, "
        "m.thread_entry_id + {o_thread_entry}, m.email_id, CONCAT('copy{i}.', m.mid), m.headers "
        "FROM {base}.{p}thread_entry_email m",
    ),
    (
        "thread_event",
        "INSERT INTO {db}.{p}thread_event SELECT v.id + {o_thread_event}, v.thread_id + {o_thread}, v.thread_type, "
        "v.event_id, v.staff_id, v.team_id, v.dept_id, v.topic_id, v.data, v.username, v.uid, v.uid_type, "
        "v.annulled, v.timestamp FROM {base}.{p}thread_event v "
        "JOIN {base}.{p}thread t ON t.id = v.thread_id AND t.object_type IN ('T', 'C')",
    ),
    (
        "thread_collaborator",
        "INSERT INTO {db}.{p}thread_collaborator SELECT c.id + {o_thread_collaborator}, c.flags, "
        "c.thread_id + {o_thread}, c.user_id, c.role, c.created, c.updated FROM {base}.{p}thread_collaborator c",
    ),
    (
        "form_entry",
        "INSERT INTO {db}.{p}form_entry SELECT id + {o_form_entry}, form_id, object_id + {o_ticket}, object_type, "
        "sort, extra, created, updated FROM {base}.{p}form_entry WHERE object_type = 'T'",
    ),
    (
        "form_entry_values",
        "INSERT INTO {db}.{p}form_entry_values SELECT v.entry_id + {o_form_entry}, v.field_id, v.value, v.value_id "
        "FROM {base}.{p}form_entry_values v JOIN {base}.{p}form_entry e ON e.id = v.entry_id AND e.object_type = 'T'",
    ),
    (
        "attachment",
        "INSERT INTO {db}.{p}attachment SELECT id + {o_attachment}, object_id + {o_thread_entry}, type, file_id, "
        "name, inline, lang FROM {base}.{p}attachment WHERE type = 'H'",
    ),
]
OFFSET_OF = {
    "ticket": "ticket_id",
    "thread": "id",
    "thread_entry": "id",
    "thread_entry_email": "id",
    "thread_event": "id",
    "thread_collaborator": "id",
    "form_entry": "id",
    "attachment": "id",
}


def _mysql(database: str | None = None) -> pymysql.Connection:
    return pymysql.connect(host=HOST, port=PORT, user=USER, database=database, autocommit=True, charset="utf8mb4")


def build_source(base: str, scaled: str, tickets: int, prefix: str) -> int:
    """The scaled copy of `base`; answers how many tickets it holds."""
    conn = _mysql()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{scaled}`")
        cur.execute(f"CREATE DATABASE `{scaled}` CHARACTER SET utf8mb4")
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [base])
        for (table,) in cur.fetchall():
            cur.execute(f"CREATE TABLE `{scaled}`.`{table}` LIKE `{base}`.`{table}`")
            cur.execute(f"INSERT INTO `{scaled}`.`{table}` SELECT * FROM `{base}`.`{table}`")  # noqa: S608  names are ours
        offsets: dict[str, int] = {}
        for table, column in OFFSET_OF.items():
            cur.execute(f"SELECT COALESCE(MAX({column}), 0) FROM `{base}`.`{prefix}{table}`")  # noqa: S608
            offsets[f"o_{table}"] = int(cur.fetchone()[0]) + 1
        cur.execute(f"SELECT COUNT(*) FROM `{base}`.`{prefix}ticket`")  # noqa: S608
        per_copy = int(cur.fetchone()[0])
        copies = max(0, -(-tickets // per_copy) - 1)
        for i in range(1, copies + 1):
            started = time.monotonic()
            cur.execute("SET autocommit = 0")
            for _table, statement in COPIES:
                shifted = {k: v * i for k, v in offsets.items()}
                cur.execute(statement.format(db=f"`{scaled}`", base=f"`{base}`", p=prefix, i=i, **shifted))
            cur.execute("COMMIT")
            cur.execute("SET autocommit = 1")
            print(f"  copy {i}/{copies}: {time.monotonic() - started:.1f} s", flush=True)
        cur.execute(f"SELECT COUNT(*) FROM `{scaled}`.`{prefix}ticket`")  # noqa: S608
        total = int(cur.fetchone()[0])
    conn.close()
    return total


def _identifier(text: str) -> str:
    """A database or prefix name as these statements splice it in: letters, digits and _ only."""
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", text):
        raise argparse.ArgumentTypeError(f"{text!r}: use letters, digits and _ only")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, type=_identifier, help="MariaDB database holding the loaded lab dump")
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--prefix", default="ost_", type=_identifier)
    parser.add_argument("--scaled", default="ost_bench_scaled", type=_identifier, help="scratch MariaDB database")
    parser.add_argument("--pg", default="tessera_bench_scaled", type=_identifier, help="scratch PostgreSQL database")
    parser.add_argument("--keep", action="store_true", help="keep both scratch databases")
    args = parser.parse_args()

    started = time.monotonic()
    total = build_source(args.base, args.scaled, args.tickets, args.prefix)
    print(f"source {args.scaled}: {total:,} tickets, built in {time.monotonic() - started:.0f} s", flush=True)

    env = dict(os.environ, DATABASE_URL=f"{PG}/{args.pg}", DJANGO_SETTINGS_MODULE="tessera.settings")
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", args.pg], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", args.pg], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    try:
        started = time.monotonic()
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.import_osticket",
                "--source",
                f"mysql://{USER}@{HOST}:{PORT}/{args.scaled}",
                "--prefix",
                args.prefix,
            ],
            cwd=ROOT,
            env=env,
        )
        # wait4: the resource usage of this child alone (RUSAGE_CHILDREN would also count migrate).
        _pid, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise SystemExit(f"the import failed ({child.returncode})")
        elapsed = time.monotonic() - started
        print(f"import of {total:,} tickets: {elapsed:.0f} s, {total / elapsed:,.0f} tickets/s")
        print(f"peak RSS of the import process: {usage.ru_maxrss / 1024:.0f} MiB")
    finally:
        if not args.keep:
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", args.pg], check=False)
            conn = _mysql()
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{args.scaled}`")
            conn.close()


if __name__ == "__main__":
    main()
