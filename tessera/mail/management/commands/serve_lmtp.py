"""`manage.py serve_lmtp`: the LMTP door for mail at volume (see tessera.mail.lmtp).

The parent binds the listening socket once, then forks `--workers` processes that each serve
LMTP on it, so one slow message never holds up the rest and a crashed worker costs nobody their
mail (the mail server retries what was not answered). The parent only supervises: it restarts a
worker that dies, after a back-off that grows while it keeps dying, and on SIGTERM or SIGINT
stops every worker and exits 0, as a service manager expects.

Signals are blocked in the parent and read with sigtimedwait: no handler can run half-way
through a fork or a restart, and no child's death is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import os
import signal
import socket
import stat
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tessera.mail import lmtp

log = logging.getLogger("tessera.mail.lmtp")

SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
FIRST_BACKOFF, MAX_BACKOFF = 1.0, 30.0
# A worker that ran this long before dying was healthy: its replacement starts without delay.
HEALTHY_SECONDS = 30.0
UNIX_SOCKET_MODE = 0o660  # the mail server's user must share the service's group


class Command(BaseCommand):
    help = _("Take mail from the mail server over LMTP (RFC 2033) in long-running processes.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=lmtp.DEFAULT_HOST, help=_("Address to listen on (default: %(default)s)."))
        parser.add_argument(
            "--port", type=int, default=lmtp.DEFAULT_PORT, help=_("TCP port to listen on (default: %(default)s).")
        )
        parser.add_argument(
            "--socket",
            metavar="PATH",
            help=_("Listen on this unix socket instead of TCP (for Postfix's lmtp:unix: transport)."),
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            metavar="N",
            help=_("How many processes take mail from the socket (default: %(default)s)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers = options["workers"]
        if workers < 1:
            raise CommandError(_("--workers must be at least 1."))
        path = Path(options["socket"]) if options["socket"] else None
        sock = bind_unix(path) if path else bind_tcp(options["host"], options["port"])
        where = str(path) if path else address(sock)
        # Children must open their own database connections, never share the parent's.
        connections.close_all()
        supervisor = Supervisor(sock, workers)
        try:
            supervisor.start()
            self.stdout.write(
                ngettext(
                    "Listening for LMTP on %(where)s, %(n)d worker",
                    "Listening for LMTP on %(where)s, %(n)d workers",
                    workers,
                )
                % {"where": where, "n": workers}
            )
            self.stdout.flush()
            supervisor.run()
        finally:
            supervisor.stop()
            sock.close()
            if path is not None:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


def bind_tcp(host: str, port: int) -> socket.socket:
    """Listen on host:port (IPv4 or IPv6); port 0 picks a free one."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        error = {"host": host, "port": port, "error": exc}
        raise CommandError(_("Cannot listen on %(host)s:%(port)d: %(error)s") % error)


def address(sock: socket.socket) -> str:
    """host:port as operators write it, with the port the system chose for port 0."""
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bind_unix(path: Path) -> socket.socket:
    """Listen on a unix socket, replacing one a previous run left behind, but never a file that
    is not a socket or a socket another server still answers on."""
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise CommandError(_("%(path)s exists and is not a socket.") % {"path": path})
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(path))
            except OSError:
                path.unlink()  # stale: nobody listens there any more
            else:
                raise CommandError(_("Another server is listening on %(path)s.") % {"path": path})
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        os.chmod(path, UNIX_SOCKET_MODE)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise CommandError(_("Cannot listen on %(path)s: %(error)s") % {"path": path, "error": exc})
    return sock


class Supervisor:
    """Forks the workers and keeps `count` of them alive until told to stop."""

    def __init__(self, sock: socket.socket, count: int) -> None:
        self.sock = sock
        self.count = count
        self.workers: dict[int, tuple[int, float]] = {}  # pid -> (slot, started at)
        self.backoff = dict.fromkeys(range(count), FIRST_BACKOFF)
        self.due: dict[int, float] = {}  # slot -> when to restart it
        self.mask: set[int | signal.Signals] = set()
        self.old_chld: Callable[[int, FrameType | None], Any] | int | signal.Handlers | None = signal.SIG_DFL

    def start(self) -> None:
        # The pipeline and everything it imports live as long as the workers: load them once
        # here and move them out of the garbage collector's way, so the workers' full
        # collections stay cheap (and those pages stay shared between the forked workers).
        importlib.import_module("tessera.mail.ingest")
        gc.freeze()
        # A handler (even one that does nothing) makes sure a blocked SIGCHLD stays pending.
        self.old_chld = signal.signal(signal.SIGCHLD, lambda *_: None)
        self.mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        for slot in range(self.count):
            self.spawn(slot)

    def run(self) -> None:
        """Supervise until SIGTERM or SIGINT."""
        while True:
            now = time.monotonic()
            timeout = max(min(self.due.values()) - now, 0) if self.due else None
            info = signal.sigtimedwait(SIGNALS, timeout) if timeout is not None else signal.sigwaitinfo(SIGNALS)
            if info is not None and info.si_signo in (signal.SIGTERM, signal.SIGINT):
                log.info("LMTP: stopping %d workers", len(self.workers))
                return
            self.reap()
            for slot, when in list(self.due.items()):
                if when <= time.monotonic():
                    del self.due[slot]
                    self.spawn(slot)

    def spawn(self, slot: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            self.work(parent)
        self.workers[pid] = (slot, time.monotonic())
        log.info("LMTP worker %d started", pid)

    def work(self, parent: int) -> None:
        """The child: serve until told to stop, and never return into the parent's code."""
        code = 0
        try:
            signal.signal(signal.SIGCHLD, self.old_chld)
            signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)
            asyncio.run(lmtp.serve(self.sock, parent=parent))
        except BaseException:
            log.exception("LMTP worker %d failed", os.getpid())
            code = 1
        finally:
            os._exit(code)

    def reap(self) -> None:
        """Note every worker that died and schedule its replacement."""
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot, started = self.workers.pop(pid, (None, 0.0))
            if slot is None:
                continue
            if time.monotonic() - started >= HEALTHY_SECONDS:
                self.backoff[slot] = FIRST_BACKOFF
            delay = self.backoff[slot]
            self.backoff[slot] = min(delay * 2, MAX_BACKOFF)
            log.error(
                "LMTP worker %d stopped (exit status %d); starting another in %.0f s",
                pid,
                os.waitstatus_to_exitcode(status),
                delay,
            )
            self.due[slot] = time.monotonic() + delay

    def stop(self) -> None:
        """Ask every worker to finish (TERM), give them the grace period, then kill what is left."""
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + lmtp.STOP_GRACE_SECONDS + 5
        while self.workers and time.monotonic() < deadline:
            for pid in list(self.workers):
                with contextlib.suppress(ChildProcessError):
                    done, _status = os.waitpid(pid, os.WNOHANG)
                    if done == 0:
                        continue
                self.workers.pop(pid)
            time.sleep(0.02)
        for pid in list(self.workers):
            log.warning("LMTP worker %d did not stop in time; killing it", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self.workers.pop(pid)
