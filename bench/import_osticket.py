"""Time `manage.py import_osticket` over a real osTicket database and measure its peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench_import \\
        python -m bench.import_osticket --source mysql://root@127.0.0.1:3306/ost_fixture [--again]

The Tessera database must be migrated and should be empty of imported rows (a fresh database:
`createdb` + `manage.py migrate`). Prints the time of each phase from the progress lines, the
whole run, tickets per second (tickets with their entries, events and files), and the peak RSS
of the process. `--again` runs a second import over the first (what a re-run before the switch
costs: everything unchanged).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import time


class _Tee(io.StringIO):
    """Keeps the progress lines (for the per-phase times) and shows them."""

    def isatty(self) -> bool:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", required=True)
    parser.add_argument("--prefix", default="ost_")
    parser.add_argument("--again", action="store_true", help="run a second import after the first")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
    import django

    django.setup()
    from django.db import connection

    from tessera.importer.service import run_import

    runs = 2 if args.again else 1
    for n in range(runs):
        progress = _Tee()
        started = time.monotonic()
        report, path = run_import(args.source, prefix=args.prefix, progress=progress)
        elapsed = time.monotonic() - started
        tickets = report.tables["ticket"]
        print(f"run {n + 1} on {connection.vendor}: {elapsed:.1f} s in all")
        for line in progress.getvalue().splitlines():
            if line.split(":")[0] in {"user", "ticket", "thread_entry", "thread_event"} and "/" in line:
                done, total = line.split(":", 1)[1].split(" rows")[0].split(" / ")
                if done.strip() == total.strip():
                    print("  " + line)
        print(
            f"  tickets: {tickets.source_rows:,} in the source, {dict(tickets.counts)}; "
            f"{tickets.source_rows / elapsed:,.0f} tickets/s over the whole run"
        )
        print(f"  report: {path}")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS: {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
