"""`manage.py run_scheduler`: start the desk's periodic jobs (SLA scan, mail polling, retries, …).

Run one beside the task worker (`make run` does); more on other machines are safe, each job still
runs once per interval (tessera/scheduler/runner.py). `--once` runs what is due and exits, for
cron. SIGTERM or Ctrl-C stops it after the job that is running.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tessera.scheduler import registry, runner


class Command(BaseCommand):
    help = _("Run the desk's periodic jobs, each once per interval however many schedulers run.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help=_("Run the jobs that are due, then exit."))
        parser.add_argument(
            "--job", action="append", metavar="NAME", dest="jobs", help=_("Only this job (may be repeated).")
        )
        parser.add_argument(
            "--tick",
            type=float,
            default=5.0,
            metavar="SECONDS",
            help=_("Look for due jobs at least this often (default 5)."),
        )
        parser.add_argument("--list", action="store_true", help=_("List the registered jobs and exit."))

    def handle(self, *args: Any, once: bool, jobs: list[str] | None, tick: float, **options: Any) -> None:
        if options["list"]:
            for job in registry.jobs().values():
                self.stdout.write(f"{job.name}\t{job.every}")
            return
        if tick <= 0:
            raise CommandError(_("--tick must be more than 0."))
        for name in jobs or ():
            if name not in registry.jobs():
                raise CommandError(_("No job is registered as “%(name)s”.") % {"name": name})
        if once:
            for run in runner.run_due(only=jobs):
                self.stdout.write(f"{run.job.name}: {run.outcome}")
            return
        stop = threading.Event()

        def shutdown(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)
        self.stdout.write(_("Scheduler running: %(count)d jobs.") % {"count": len(jobs or registry.jobs())})
        self.stdout.flush()
        runner.loop(stop, only=jobs, tick=tick)
