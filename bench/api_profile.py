"""Deterministic cost of one ticket creation through the API, in this process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench_api \\
        python -m bench.api_profile [--tickets 200] [--endpoint v1|osticket] [--top 40]

Sends `--tickets` creations through the whole Django stack (WSGI handler, every middleware,
the view) with bench.settings and a persistent connection, as a gunicorn worker would, and
prints per ticket: SQL statements (counted with an execute wrapper) and Python function calls
(cProfile). Both are deterministic, unlike CPU time on a shared machine, so they compare two
builds on any day. `--top` prints the functions with the most internal time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_profile")
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--endpoint", choices=["v1", "osticket"], default="v1")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--sql", action="store_true", help="print the statements of one creation")
    parser.add_argument("--dump", help="write the cProfile stats to this file (pstats)")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("bench.api_profile: set DATABASE_URL to a database it may fill")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("CONN_MAX_AGE", "60")
    os.environ.setdefault("TASKS_BACKEND", "database")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    from tessera.accounts.models import Department, Role
    from tessera.api import keys
    from tessera.api.models import ApiKey, Scope
    from tessera.tickets.defaults import ensure_defaults
    from tessera.tickets.models import HelpTopic, Priority, Status

    ensure_defaults(Priority, Status, Role)
    support, _c = Department.objects.get_or_create(name="Support", defaults={"email": "support@api-bench.example"})
    topic, _c = HelpTopic.objects.get_or_create(name="General question", defaults={"department": support})
    ApiKey.objects.filter(name="api-profile").delete()
    _key, raw = keys.issue_key(
        name="api-profile", created_by=None, scopes=[Scope.TICKETS_WRITE, Scope.OSTICKET], rate_limit=0
    )
    client = Client(HTTP_HOST="127.0.0.1")
    serial = int(time.time() * 1000) * 1000

    def create() -> None:
        nonlocal serial
        serial += 1
        if args.endpoint == "v1":
            body = {
                "requester_email": f"client{serial}@api-profile.example",
                "requester_name": f"Client {serial}",
                "topic_id": topic.pk,
                "subject": f"Disk usage above 90% on host {serial}",
                "message": "The monitoring system saw /var at 93 % for ten minutes.\nPlease have a look.",
            }
            response = client.post(
                "/api/v1/tickets",
                json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {raw}",
                REMOTE_ADDR="127.0.0.1",
            )
        else:
            body = {
                "name": f"Client {serial}",
                "email": f"client{serial}@api-profile.example",
                "subject": f"Disk usage above 90% on host {serial}",
                "message": "data:text/plain;charset=utf-8,The monitoring system saw /var at 93 % for ten minutes.",
                "ip": "192.0.2.10",
                "topicId": topic.pk,
            }
            response = client.post(
                "/api/tickets.json",
                json.dumps(body),
                content_type="application/json",
                HTTP_X_API_KEY=raw,
                REMOTE_ADDR="127.0.0.1",
            )
        if response.status_code != 201:
            raise SystemExit(f"bench.api_profile: {response.status_code} {response.content[:300]!r}")
        client.cookies.clear()

    for _n in range(20):  # warm up: imports, caches, prepared statements
        create()
    if args.sql:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            create()
        for query in captured.captured_queries:
            print(f"{query['time']}  {query['sql'][:300]}")
    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0] if connection.vendor == "postgresql" else None

    def backend_cpu() -> float:
        """This connection's PostgreSQL backend's user + system CPU, from /proc (local server)."""
        if backend is None:
            return 0.0
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    # CPU without the profiler: this process (Django and the test client) and its backend.
    began, pg_began = time.process_time(), backend_cpu()
    for _n in range(args.tickets):
        create()
    plain_cpu, pg_cpu = time.process_time() - began, backend_cpu() - pg_began
    print(
        f"{args.endpoint}: {plain_cpu * 1000 / args.tickets:.2f} ms CPU per ticket in this process, "
        f"{pg_cpu * 1000 / args.tickets:.2f} ms in its PostgreSQL backend; load {os.getloadavg()[0]:.1f}"
    )
    profile = cProfile.Profile(time.process_time)  # CPU, not the wait for PostgreSQL
    with connection.execute_wrapper(count):
        began = time.process_time()
        profile.enable()
        for _n in range(args.tickets):
            create()
        profile.disable()
        cpu = time.process_time() - began
    stats = pstats.Stats(profile, stream=io.StringIO())
    if args.dump:
        stats.dump_stats(args.dump)
    print(
        f"{args.endpoint}: {args.tickets} tickets, {statements / args.tickets:.1f} statements and "
        f"{stats.total_calls / args.tickets:,.0f} function calls per ticket "  # type: ignore[attr-defined]
        f"({cpu * 1000 / args.tickets:.2f} ms CPU per ticket under cProfile, this process only)"
    )
    if args.top:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
