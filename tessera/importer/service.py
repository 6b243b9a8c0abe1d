"""One import run: open the source, run the phases, account for every row.

`--dry-run` runs the very same code inside one transaction that is rolled back at the end
(and writes no files), so its report is exactly what a real run would do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.db import transaction

from .phases import PHASES
from .report import Report
from .runner import Context
from .source import BATCH_SIZE, Source


class _DryRunDone(Exception):
    pass


def run_import(
    url: str,
    *,
    prefix: str = "ost_",
    files_dir: Path | None = None,
    since: Any = None,
    dry_run: bool = False,
    time_zone: str | None = None,
    progress: TextIO | None = None,
    after_batch: Callable[[], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> tuple[Report, Path]:
    source = Source(url, prefix=prefix, time_zone=time_zone, batch_size=batch_size)
    report = Report(dry_run=dry_run)
    ctx = Context(
        source=source,
        report=report,
        files_dir=files_dir,
        since=since,
        progress_stream=progress,
        after_batch=after_batch,
    )
    try:
        if dry_run:
            try:
                with transaction.atomic():
                    _phases(ctx)
                    raise _DryRunDone
            except _DryRunDone:
                pass
        else:
            _phases(ctx)
    finally:
        source.close()
    path = report.write(Path(settings.DATA_DIR) / "imports")
    return report, path


def _phases(ctx: Context) -> None:
    for _name, phase in PHASES:
        phase(ctx)
