"""manage.py import_osticket: bring an osTicket 1.10–1.18 desk over, as many times as needed
until the switch (only what changed comes over again). Progress on standard error, the report
on standard output and in the data folder (docs/import.md)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tessera.importer.service import run_import
from tessera.importer.source import BATCH_SIZE, SourceError


class Command(BaseCommand):
    help = "Import users, agents, configuration and tickets from an osTicket database (read-only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, help="mysql://user:password@host:3306/database")
        parser.add_argument("--prefix", default="ost_", help="osTicket's table prefix (default ost_).")
        parser.add_argument(
            "--files", default=None, help="The filesystem storage plugin's folder, for files not in the database."
        )
        parser.add_argument("--since", default=None, help="Only tickets updated on or after this date (YYYY-MM-DD).")
        parser.add_argument("--dry-run", action="store_true", help="Read everything and report; change nothing.")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Source rows per transaction.")
        parser.add_argument("--source-time-zone", default=None, help="Override the zone the source's dates are in.")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            try:
                since = dt.datetime.fromisoformat(options["since"])
            except ValueError as exc:
                raise CommandError("--since takes a date such as 2024-01-31") from exc
        files = Path(options["files"]) if options["files"] else None
        if files is not None and not files.is_dir():
            raise CommandError(f"--files: {files} is not a folder")
        try:
            report, path = run_import(
                options["source"],
                prefix=options["prefix"],
                files_dir=files,
                since=since,
                dry_run=options["dry_run"],
                time_zone=options["source_time_zone"],
                progress=sys.stderr,
                batch_size=options["batch_size"],
            )
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.render(full=False))
        self.stdout.write(f"Full report: {path}")
        if report.problems():
            raise CommandError("Some source rows are not accounted for; see the report.")
