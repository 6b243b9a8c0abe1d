"""Time the SLA scan (tessera.sla.breaches) over a big desk, and show how the database runs it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench_sla python -m bench.sla_scan [--fill] [--passes 5]

--fill first gives the open tickets due and warning times spread around now (from two days ago
to two days ahead, answered tickets without a first-response time), in bulk SQL, and forgets
every warned/breached mark, so the first pass finds a realistic backlog. Then each pass runs
the scan's four index-backed questions and claims one batch of each (what `run` does) inside a
transaction that is rolled back, so every pass sees the same data and nothing is mailed.
Finally EXPLAIN (ANALYZE, BUFFERS) of each question. Use a copy of the bench database, never
one that others are measuring on.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any


def fill(connection: Any) -> int:
    """Due and warning times for the open tickets, spread over four days around now; one in
    three unanswered (first response owed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE tickets_ticket SET
              due_at = now() + ((id * 7919) % 5760 - 2880) * interval '1 minute',
              resolution_warn_at = now() + ((id * 7919) % 5760 - 2880 - 120) * interval '1 minute',
              first_response_due_at = CASE WHEN id % 3 = 0
                THEN now() + ((id * 104729) % 2880 - 1440) * interval '1 minute' END,
              first_response_warn_at = CASE WHEN id % 3 = 0
                THEN now() + ((id * 104729) % 2880 - 1440 - 30) * interval '1 minute' END,
              first_response_at = CASE WHEN id % 3 = 0 THEN NULL ELSE coalesce(first_response_at, created_at) END,
              first_response_breached = false, resolution_breached = false,
              first_response_warned_at = NULL, resolution_warned_at = NULL
            WHERE state = 'open'
            """
        )
        filled: int = cursor.rowcount
        # Tickets that are not open keep their old times but count as already settled.
        cursor.execute("ANALYZE tickets_ticket")
    return filled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fill", action="store_true", help="set realistic due/warning times first")
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from tessera.sla import breaches
    from tessera.tickets import services
    from tessera.tickets.models import Ticket

    if args.fill:
        print(f"filled {fill(connection)} open tickets")
    total = Ticket.objects.count()
    open_count = Ticket.objects.filter(state="open").count()
    print(f"tickets: {total:,}, open: {open_count:,}, vendor: {connection.vendor}")

    class Rollback(Exception):
        pass

    for n in range(args.passes):
        now = timezone.now()
        started = time.perf_counter()
        found: dict[tuple[str, bool], list[int]] = {}
        claimed = 0
        try:
            with transaction.atomic():
                found = breaches.candidates(now)
                for (target, breach), ids in found.items():
                    _due, _warn, breached, warned = services.sla.TARGET_COLUMNS[target]
                    # The claim the scan makes per ticket, for the whole batch at once (no mail).
                    claimed += (
                        services.pending_alerts(target, breach=breach, now=now)
                        .filter(pk__in=ids)
                        .order_by()
                        .update(**({breached: True} if breach else {warned: now}))
                    )
                raise Rollback
        except Rollback:
            pass
        elapsed = time.perf_counter() - started
        sizes = ", ".join(f"{t}{'/breach' if b else '/warn'}={len(ids)}" for (t, b), ids in found.items())
        print(f"pass {n + 1}: {elapsed * 1000:.1f} ms ({sizes}; claimed {claimed}, rolled back)")

    if connection.vendor == "postgresql":
        now = timezone.now()
        for target, breach in breaches.QUESTIONS:
            qs = services.pending_alerts(target, breach=breach, now=now).values_list("pk", flat=True)[: breaches.BATCH]
            sql, params = qs.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"\n-- {target} {'breach' if breach else 'warning'}\n{plan}")


if __name__ == "__main__":
    main()
