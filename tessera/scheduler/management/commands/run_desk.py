"""`manage.py run_desk`: the web server, the task worker and the scheduler together, for `make run`.

Why one command: a newcomer's desk must send its mail and fire its SLA alerts with nothing else
to start. It starts the three as child processes, forwards Ctrl-C and SIGTERM to each by its
process id, and stops them all when one of them ends (so a crashed worker is noticed, not left
behind). Production runs the three as separate services instead (README, "Running in production").
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django_tasks_db.backend import DatabaseBackend

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

STOP_SECONDS = 20


def _runs_in_the_database(backend: str) -> bool:
    """django-tasks-db's backend, or Tessera's cheaper one (tessera/scheduler/task_backend.py)."""
    try:
        return issubclass(import_string(backend), DatabaseBackend)
    except ImportError:
        return False


def worker_command(backend: str, python: str, manage: str) -> list[str] | None:
    """The worker process for the configured task backend; None when tasks run in process."""
    if _runs_in_the_database(backend):
        return [python, manage, "db_worker", "--queue-name", "*", "--interval", "1", "--no-reload"]
    if backend == "django_tasks_rq.RQBackend":
        return [python, manage, "rqworker", "--job-class", "django_tasks_rq.Job", "--with-scheduler", "default"]
    return None


class Command(BaseCommand):
    help = _("Serve the desk with its task worker and scheduler; Ctrl-C stops all three.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help=_("Address and port to serve on."))
        parser.add_argument("--workers", type=int, default=2, help=_("Web server processes."))

    def handle(self, *args: Any, bind: str, workers: int, **options: Any) -> None:
        python = sys.executable
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        gunicorn = str(Path(python).parent / "gunicorn")
        logs = ["--access-logfile", "-", "--error-logfile", "-"]
        commands: dict[str, list[str]] = {
            "web": [gunicorn, "tessera.wsgi", "--bind", bind, "--workers", str(workers), *logs],
            "scheduler": [python, manage, "run_scheduler"],
        }
        worker = worker_command(settings.TASKS["default"]["BACKEND"], python, manage)
        if worker is not None:
            commands["worker"] = worker
        stop = threading.Event()

        def shutdown(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)
        children: dict[str, subprocess.Popen[bytes]] = {}
        failed = ""
        try:
            for name, command in commands.items():
                children[name] = subprocess.Popen(command)  # noqa: S603 - our own programs, fixed arguments
            while not stop.is_set():
                ended = [name for name, child in children.items() if child.poll() is not None]
                if ended:
                    failed = ended[0]
                    break
                stop.wait(0.5)
        finally:
            self.stop_all(children)
        if failed:
            raise CommandError(
                _("The %(name)s process ended (exit status %(code)s); the others were stopped.")
                % {"name": failed, "code": children[failed].returncode}
            )

    @staticmethod
    def stop_all(children: dict[str, subprocess.Popen[bytes]]) -> None:
        """SIGTERM each child by its pid, then SIGKILL whichever has not ended in STOP_SECONDS."""
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for child in children.values():
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
