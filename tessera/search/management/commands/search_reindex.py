"""manage.py search_reindex: rebuild every ticket's search document, showing progress.

Needed after loading tickets in bulk without the services (a data import, bench/generate.py),
after renaming users or organisations, or when the index was damaged or dropped (the missing
GIN index or FTS5 table is created again). Works in batches of ticket ids, one transaction
each, so it runs at a million tickets with flat memory and can be interrupted and re-run.
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.formats import number_format

from tessera.search import index


class Command(BaseCommand):
    help = "Rebuild the full-text search index of every ticket, in batches, showing progress."

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--fresh",
            action="store_true",
            help="Empty the index first and build the GIN index once at the end (fastest; search finds "
            "nothing until it finishes). The default when the index is empty.",
        )
        mode.add_argument(
            "--in-place",
            action="store_true",
            help="Replace documents batch by batch; search keeps working meanwhile.",
        )
        parser.add_argument("--batch-size", type=int, default=index.BATCH_SIZE, help="Tickets per transaction.")
        parser.add_argument(
            "--workers",
            type=int,
            default=min(4, os.cpu_count() or 1),
            help="Batches indexed at once on PostgreSQL, each on its own connection (default: one per CPU, at most 4).",
        )

    def handle(self, *args: Any, fresh: bool, in_place: bool, batch_size: int, workers: int, **options: Any) -> None:
        started = time.monotonic()
        shown = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - shown[0] < 1.0:
                return  # one line a second is plenty
            shown[0] = now
            self.stdout.write(
                f"indexed {number_format(done, force_grouping=True)} / {number_format(total, force_grouping=True)} "
                f"tickets… ({now - started:.0f} s)"
            )

        mode = True if fresh else False if in_place else None
        done = index.rebuild(fresh=mode, batch_size=max(batch_size, 1), workers=max(workers, 1), progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Search index rebuilt: {number_format(done, force_grouping=True)} tickets "
                f"in {time.monotonic() - started:.1f} s."
            )
        )
