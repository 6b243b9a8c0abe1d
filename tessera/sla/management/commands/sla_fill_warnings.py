"""manage.py sla_fill_warnings: give open tickets opened before SLA warnings existed their warning
times, showing progress. `migrate` queues the same work as a background task; this runs it here
and now (tessera/sla/warning_backfill.py), in batches, and may be interrupted and run again."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.formats import number_format

from tessera.sla import warning_backfill


class Command(BaseCommand):
    help = "Fill in the SLA warning times of open tickets that have none, in batches, showing progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=warning_backfill.BATCH_SIZE, help="Tickets per transaction."
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        started = time.monotonic()
        shown = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - shown[0] < 1.0:
                return  # one line a second is plenty
            shown[0] = now
            self.stdout.write(
                f"checked {number_format(done, force_grouping=True)} / {number_format(total, force_grouping=True)} "
                f"tickets… ({now - started:.0f} s)"
            )

        written = warning_backfill.fill_warning_times(batch_size=max(batch_size, 1), progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Warning times filled in for {number_format(written, force_grouping=True)} tickets "
                f"in {time.monotonic() - started:.0f} s."
            )
        )
