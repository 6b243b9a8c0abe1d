"""The LMTP door (RFC 2033): the mail server hands messages to one long-running process.

The pipe (`manage.py ingest_email`) starts Python and Django for every message, about a second
of CPU each; here that cost is paid once, so the desk can take mail at volume. Each message goes
through the same `ingest` pipeline as every other way in, exactly once however many recipients
it has, and the answer mirrors the pipe's exit status:

- 250 2.0.0: stored, whatever became of it (ticket, reply, event, kept as refused);
- 451 4.3.0: the database is unavailable, or something unexpected failed: the mail server keeps
  the message and tries again (nothing is ever answered 250 unless its bytes are stored);
- 550 5.6.0: the input is not an email message at all (its bytes are still stored);
- 552: over the protocol ceiling, twice the pipeline's size limit (aiosmtpd answers that itself;
  mail between the two limits is accepted and kept as refused, with the reason).

LMTP wants one reply per accepted recipient after DATA; they are all the same, since the message
is stored once. Reply texts stay in English: SMTP replies are US-ASCII on the wire and are read
in the mail server's log, not by customers.

The ORM is synchronous, so each process ingests in one dedicated thread while the asyncio loop
keeps reading other connections; messages wait their turn in that thread's queue. That thread
keeps its database connection from one message to the next (see tune_connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import socket
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import Envelope, Session, syntax

from django.conf import settings
from django.db import close_old_connections, connections

from . import ingest
from .models import Channel, InboundStatus
from .parse import peek

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 2424
# A message that is still being ingested when the process is asked to stop gets this long.
STOP_GRACE_SECONDS = 10.0

TEMPFAIL = "451 4.3.0 Temporarily unable to store the message; try again later"


def size_ceiling() -> int:
    """The protocol's hard limit: mail up to twice the pipeline's limit is accepted (and kept as
    refused with the reason), so a customer learns why; beyond it, reading on only costs memory."""
    return 2 * int(settings.TESSERA["MAIL_MAX_MESSAGE_BYTES"])


def tune_connections() -> None:
    """Database connections for a process that ingests mail all day.

    - Kept between messages. CONN_MAX_AGE=0, the default, suits a web request; here it would
      reconnect for every message, which on PostgreSQL costs more than ingesting it (measured:
      15 instead of 33-42 messages/s in one worker). A longer age the operator chose is kept.
      A connection a database restart broke is replaced by `deliver`, not by a health check.
    - PostgreSQL: parameters bound by the server and statements prepared from their second use.
      Ingest runs the same few dozen statements for every message; PostgreSQL then plans them
      once per connection instead of once per message, which took about a third of its CPU per
      message (measured with bench.ingest). Only here: web pages keep Django's defaults, whose
      queries vary more and whose plans should follow each query's values.

    Only for this process: call it in the worker, before the ingest thread connects."""
    for alias in connections:
        conf = connections.settings[alias]
        if not conf.get("CONN_MAX_AGE"):
            conf["CONN_MAX_AGE"] = None
        if conf["ENGINE"] == "django.db.backends.postgresql":
            options = conf.setdefault("OPTIONS", {})
            options.setdefault("server_side_binding", True)
            options.setdefault("prepare_threshold", 2)


def deliver(raw: bytes, recipients: Sequence[str]) -> str:
    """Ingest one message and say how it went, as one reply line. Runs in the ingest thread.

    A connection the database dropped (a restart while the worker idled) fails the first
    statement; that message is tried once more on a new connection, so only a database that
    is really unavailable defers mail. (Cheaper than Django's health check, a round trip
    before every message.)"""
    for attempt in (1, 2):
        close_old_connections()
        try:
            row = ingest.ingest(raw, channel=Channel.LMTP, mailbox=ingest.mailbox_for(recipients))
            break
        except ingest.DATABASE_UNAVAILABLE as exc:
            connections.close_all()  # this thread's: the next attempt, or message, connects afresh
            if attempt == 2:
                log.warning("LMTP: database unavailable, the mail server will retry: %s", exc)
                return TEMPFAIL
        except Exception:
            log.exception("LMTP: could not store a message; the mail server will retry")
            return TEMPFAIL
        finally:
            close_old_connections()
    if row.status == InboundStatus.REJECTED and not peek(raw).is_message:
        return f"550 5.6.0 Not an email message; kept as received message {row.pk}"
    return f"250 2.0.0 Stored as received message {row.pk}"


class Handler:
    """aiosmtpd's handler: hands each message to the ingest thread and answers per recipient."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self.executor = executor
        self.busy = 0  # messages handed to the thread and not yet answered

    async def handle_DATA(self, server: LMTP, session: Session, envelope: Envelope) -> str:
        raw = bytes(envelope.original_content or b"")
        recipients = list(envelope.rcpt_tos)
        self.busy += 1
        try:
            reply = await asyncio.get_running_loop().run_in_executor(self.executor, deliver, raw, recipients)
        except Exception:
            log.exception("LMTP: the ingest thread failed; the mail server will retry")
            reply = TEMPFAIL
        finally:
            self.busy -= 1
        return "\r\n".join([reply] * max(len(recipients), 1))


class Server(LMTP):
    """aiosmtpd's LMTP, reading DATA in blocks, and answering it once per recipient.

    aiosmtpd reads DATA a line at a time in Python: thousands of awaits for a message with an
    attachment, an eighth of a worker's CPU when mail arrives at volume. Here the stream
    buffer is searched for the next line that ends in a dot (in C), so only such lines, and
    every 64 KiB of data without one, wake Python. Lines of any length are kept (a broken
    mailer's message is better kept than bounced). A message over the ceiling is read to its
    end, dropped and answered 552 for each recipient, and the connection goes on."""

    line_length_limit = 64 * 1024  # command lines; also how much DATA is read at a time

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None  # noqa: S101  narrows the type: aiosmtpd sets it on HELO/LHLO
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        replies = len(self.envelope.rcpt_tos)
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            content = await self._read_data()
        except asyncio.IncompleteReadError:
            return  # the client went away mid-message: nothing was accepted
        if content is None:
            self._set_post_data_state()  # type: ignore[no-untyped-call]  # aiosmtpd leaves it unannotated
            await self.push("\r\n".join([f"552 5.3.4 Message too big: over {self.data_size_limit} bytes"] * replies))
            return
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]  # aiosmtpd leaves it unannotated
        await self.push(status)

    async def _read_data(self) -> bytes | None:
        """The message up to the line holding a lone dot, without dot-stuffing; None when it
        is over data_size_limit (then read to its end all the same, keeping nothing)."""
        data = bytearray()
        size, too_big = 0, False
        while True:
            try:
                piece = await self._reader.readuntil(b".\r\n")
            except asyncio.LimitOverrunError as exc:
                piece = await self._reader.readexactly(exc.consumed)  # holds no ".\r\n"
            size += len(piece)
            data += piece
            if self.data_size_limit and size > self.data_size_limit:
                too_big = True
                del data[:-5]  # keep only what the end-of-data test needs
            ended = piece.endswith(b".\r\n") and (size == 3 or data[-5:-3] == b"\r\n")
            if ended:
                break
        if too_big:
            return None
        return re.sub(rb"(?m)^\.", b"", bytes(data[:-3]))  # ".\r\n" off; ".." at a line start -> "."


async def serve(sock: socket.socket, *, parent: int | None = None) -> None:
    """Serve LMTP on a listening socket (TCP or unix) until SIGTERM or SIGINT, or until the
    process `parent` is gone (a worker whose supervisor was killed must not serve on alone);
    then stop taking connections and give the message being ingested a moment to finish.

    The socket may be shared with other processes: each accepts connections from it."""
    loop = asyncio.get_running_loop()
    tune_connections()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lmtp-ingest")
    handler = Handler(executor)
    hostname = socket.gethostname()  # once: aiosmtpd would otherwise look up the FQDN per connection

    def factory() -> Server:
        return Server(
            handler,
            data_size_limit=size_ceiling(),
            enable_SMTPUTF8=True,
            hostname=hostname,
            ident="Tessera LMTP",
            loop=loop,
        )

    if sock.family == socket.AF_UNIX:
        # The socket is the parent's: a worker stopping must not remove it (Python 3.13 would).
        if sys.version_info >= (3, 13):
            server = await loop.create_unix_server(factory, sock=sock, cleanup_socket=False)
        else:
            server = await loop.create_unix_server(factory, sock=sock)
    else:
        server = await loop.create_server(factory, sock=sock)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watch = loop.create_task(_stop_when_orphaned(parent, stop)) if parent else None
    try:
        await stop.wait()
    finally:
        server.close()
        deadline = loop.time() + STOP_GRACE_SECONDS
        while handler.busy and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
        # A message still queued is not answered: the mail server retries it, and the dedupe key
        # makes that harmless even if it was stored.
        executor.shutdown(wait=False, cancel_futures=True)
        if watch is not None:
            watch.cancel()


async def _stop_when_orphaned(parent: int, stop: asyncio.Event) -> None:
    while os.getppid() == parent:
        await asyncio.sleep(1)
    log.warning("LMTP worker %d: its supervisor %d is gone; stopping", os.getpid(), parent)
    stop.set()
