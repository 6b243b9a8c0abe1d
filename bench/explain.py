"""Show how the database runs every query of the benchmarked pages, and flag full scans.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench python -m bench.explain [--page queue] [--all]

Renders each page in process as the bench agent (Django's test client), captures the SQL it
runs (CaptureQueriesContext), then runs EXPLAIN (ANALYZE, BUFFERS) on every distinct SELECT
(SQLite: EXPLAIN QUERY PLAN). Flagged: any sequential scan over tickets, thread entries,
events or search documents (with how many rows it really read: a scan stopped early by a
LIMIT reads few), and any plan node reading more than 50,000 rows of them (a bitmap scan of
every matching row followed by a sort, say): both grow with the desk on every page view.
Plans are printed for flagged and slow (≥ 1 ms) queries; --all prints every plan.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

BIG_TABLES = ("tickets_ticket", "tickets_threadentry", "tickets_event", "search_")
SQLITE_SCAN = re.compile(r"\bSCAN (\w+)")  # "SEARCH" uses an index, "SCAN" reads it all
EXECUTION = re.compile(r"Execution Time: ([\d.]+) ms")
# A page reads at most a page of rows plus capped counts; a node that reads more than this
# from a big table grows with the desk.
MANY_ROWS = 50_000
SLOW_MS = 20.0


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _flags_postgres(plan_json: dict) -> list[str]:
    """Sequential scans of big tables, and any node reading more than MANY_ROWS of one
    (rows returned plus rows its filters removed, times loops)."""
    flags = []
    for node in _nodes(plan_json["Plan"]):
        table = node.get("Relation Name", "")
        if not table.startswith(BIG_TABLES):
            continue
        loops = node.get("Actual Loops", 0)
        if not loops:
            continue  # never executed
        read = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * loops
        read += node.get("Rows Removed by Index Recheck", 0) * loops
        kind = node["Node Type"]
        if kind == "Seq Scan":
            flags.append(f"SEQ SCAN on {table} (read {read:,} rows)")
        elif read > MANY_ROWS:
            flags.append(f"{kind} on {table} reads {read:,} rows")
    return flags


def _explain(cursor, sql: str, vendor: str) -> tuple[str, float | None, list[str]]:
    if vendor == "postgresql":
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
        raw = cursor.fetchone()[0]
        plan_json = (json.loads(raw) if isinstance(raw, str) else raw)[0]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        match = EXECUTION.search(plan)
        return plan, float(match.group(1)) if match else None, _flags_postgres(plan_json)
    cursor.execute("EXPLAIN QUERY PLAN " + sql)
    plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
    flags = sorted(
        {
            f"SCAN {t}"
            for line in plan.splitlines()
            if "VIRTUAL TABLE" not in line  # an FTS5 MATCH goes through its own index
            for t in SQLITE_SCAN.findall(line)
            if t.startswith(BIG_TABLES)
        }
    )
    return plan, None, flags


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__.split("\n\n")[0])
    parser.add_argument("--page", action="append", help="only this page key (repeatable): queue, deep, ticket, …")
    parser.add_argument(
        "--path", action="append", help="explain this URL path instead (repeatable), as the bench agent"
    )
    parser.add_argument("--all", action="store_true", help="print every plan, not only flagged or slow ones")
    parser.add_argument("--deep-pages", type=int, default=200)
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("bench.explain: set DATABASE_URL to the generated desk")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("BENCH_PLAIN_STATIC", "1")
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from bench.generate import BENCH_AGENT_EMAIL
    from bench.pages import facts, pages
    from bench.querycounts import client_fetch
    from tessera.accounts.models import User

    setup_test_environment()
    vendor = connection.vendor
    # A page that fails is reported with its status, not raised: the others still get explained.
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(email=BENCH_AGENT_EMAIL))
    anonymous = client_fetch(Client(raise_request_exception=False))
    fetch = client_fetch(client)
    seen: set[str] = set()
    flagged_total: list[tuple[str, list[str], float | None]] = []
    slow: list[tuple[str, float, str]] = []
    from bench.pages import Page

    measured = (
        [Page(path, path, path) for path in args.path]
        if args.path
        else pages(fetch, facts(), deep_pages=args.deep_pages)
    )
    for page in measured:
        if args.page and page.key not in args.page:
            continue
        if page.path is None:
            print(f"\n=== {page.label}: not available")
            continue
        get = anonymous if page.anonymous else fetch
        get(page.path)  # warm-up: per-process caches
        cache.clear()  # but explain the worst case: cached values (queue counts) recomputed
        with CaptureQueriesContext(connection) as ctx:
            response = get(page.path)
        print(f"\n=== {page.label}: GET {page.path} → {response.status}, {len(ctx.captured_queries)} queries")
        with connection.cursor() as cursor:
            for n, query in enumerate(ctx.captured_queries, 1):
                sql = query["sql"] or ""
                head = " ".join(sql.split())[:150]
                if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    print(f"--- {n}. (not a SELECT, not explained) {head}")
                    continue
                if sql in seen:
                    print(f"--- {n}. (same as above) {head}")
                    continue
                seen.add(sql)
                plan, ms, flags = _explain(cursor, sql, vendor)
                timing = f"{ms:.2f} ms" if ms is not None else ""
                mark = f"  <<< {'; '.join(flags)}" if flags else ""
                print(f"--- {n}. {timing} {head}{mark}")
                if flags:
                    flagged_total.append((page.key, flags, ms))
                if ms is not None and ms >= SLOW_MS:
                    slow.append((page.key, ms, head[:100]))
                if args.all or flags or (ms is not None and ms >= 1.0):
                    print(sql)
                    print(plan)
    print()
    if slow:
        print(f"SLOW (≥ {SLOW_MS:.0f} ms):")
        for key, ms, head in slow:
            print(f"  {key}: {ms:.1f} ms  {head}")
    if flagged_total:
        print(f"FLAGGED (sequential scans, or more than {MANY_ROWS:,} rows read from a big table):")
        for key, flags, ms in flagged_total:
            print(f"  {key}: {'; '.join(flags)}" + (f" — query took {ms:.1f} ms" if ms is not None else ""))
    if flagged_total or slow:
        return 1
    print("no sequential scans and no large reads on tickets, thread entries, events or search documents")
    return 0


if __name__ == "__main__":
    sys.exit(main())
