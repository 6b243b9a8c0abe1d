"""Measure how many email messages a second Tessera takes in.

    python -m bench.ingest --messages 2000 --tasks database --via lmtp --workers 2 \
        --database-url postgres://postgres@127.0.0.1:5432/tessera_bench_ingest

What it does: migrates the database it is given (creating it on PostgreSQL when missing),
refuses one that already has tickets unless --force, makes a small desk (Support with two
agents, so every new ticket also has its agent alert), builds a mixed corpus of real MIME
messages in memory and feeds it to the pipeline:

- `--via lmtp` (the production door): starts `manage.py serve_lmtp --workers N` and sends the
  corpus over 4 x N LMTP connections; like a mail server's queue, whichever connection is free
  takes the next conversation, its messages in order, each after the reply to the one before;
- `--via call` (the default): calls `tessera.mail.ingest.ingest(raw)` in this process, one
  message after another, or in N forked processes at once with `--workers N`.

It prints the throughput, p50/p95 per kind, what became of each message (and any message that
did not end as its kind should), the CPU used per message by Tessera, its PostgreSQL backends
and the load generator, the machine's load, and a fixed piece of reference work timed at the
start: this machine's speed varies from hour to hour, and that figure shows by how much.

The corpus, deterministic for --seed: about half new tickets from a pool of customers (few
enough messages per customer to stay under MAIL_SENDER_LIMIT_PER_HOUR, so the rate limit does
not turn the run into rejections), about 35 % replies threaded by In-Reply-To/References to a
ticket opened earlier in the run, with the previous message (and the reply marker) quoted under
the new text, about 5 % out-of-office replies (Auto-Submitted) and a few bounces
(multipart/report with message/delivery-status about a notification the desk sent). Of the new
tickets and replies about 20 % carry a 50-200 KB PDF-like attachment and an inline PNG
referenced by cid: from the HTML part, and about 45 % have an HTML part (those 20 % and a
quarter of the rest: multipart/alternative, a few HTML only). A bounce is finished at its
turn: it must name the Message-ID of a notification Tessera actually sent, which exists only
once the ticket does (with --tasks database nothing is sent during the run, so bounces are kept
on no ticket, as they should be).

Tasks: `--tasks database` is production's set-up (each change's notifications are one task row
in its transaction, sent later by a db_worker); `immediate`, the default, renders and hands over
the notifications inside each message's time; `dummy` queues nothing. Mail goes to Django's
locmem backend so no SMTP round trip is timed, and attachments to a temporary folder removed
afterwards. It never falls back to the default SQLite file (the developer's own desk).
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import random
import re
import shutil
import signal
import smtplib
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import cast

SUPPORT_ADDRESS = "support@bench-desk.example"
CUSTOMER_DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com"]
AGENT_EMAILS = ["ingest-agent-1@bench-desk.example", "ingest-agent-2@bench-desk.example"]
# At most this many messages per customer in one run (MAIL_SENDER_LIMIT_PER_HOUR defaults to 30).
MESSAGES_PER_CUSTOMER = 8
TARGET_PER_SECOND = 100
TASK_BACKENDS = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "dummy": "django.tasks.backends.dummy.DummyBackend",
    "database": "tessera.scheduler.task_backend.DatabaseBackend",
}

TOPICS = [
    ("VPN drops every few minutes", "My VPN connection drops every few minutes since the update."),
    ("Cannot print from floor 3", "Every print job from floor 3 fails with 'printer offline'."),
    ("Invoice {n} shows the wrong VAT", "Invoice {n} was charged at 21 % VAT instead of 9 %."),
    ("Password reset link expired", "The reset link says it has expired although I clicked it at once."),
    ("Shared mailbox missing in Outlook", "The sales shared mailbox disappeared from Outlook this morning."),
    ("Laptop fan very loud", "My laptop fan runs at full speed even when the machine is idle."),
    ("Access to the finance share", "Could I get read access to \\\\files\\finance for the audit?"),
    ("Wi-Fi in meeting room B", "The Wi-Fi in meeting room B keeps asking for the password again."),
]
REPLIES = [
    "Thanks, that worked. One more question: does this also apply to my second laptop?",
    "I tried that but it still happens, see the attached log.",
    "It happened again at 14:05 today, right after lunch.",
    "Any news on this? My manager is asking.",
    "Yes, I restarted twice. No change.",
]


# ---------------------------------------------------------------------------- the corpus


def _png(size: int = 16) -> bytes:
    """A real (tiny, solid-colour) PNG, as screenshots pasted into mail are images/png."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x1f\x6f\xb4" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _pdf_like(rng: random.Random) -> bytes:
    """50-200 KB that look like a PDF to anything sniffing the first bytes and do not compress."""
    size = rng.randint(50_000, 200_000)
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + rng.randbytes(size) + b"\n%%EOF\n"


@dataclass
class Customer:
    name: str
    email: str
    sent: int = 0


@dataclass
class Conversation:
    customer: Customer
    subject: str
    ids: list[str]  # Message-IDs the customer sent on it, oldest first (with <>)
    last_text: str


@dataclass
class Item:
    kind: str  # new | reply | auto_reply | bounce
    raw: bytes = b""
    html: bool = False
    attachments: bool = False
    conversation: Conversation | None = None  # the ticket a reply, auto-reply or bounce belongs to
    expected: str = ""  # the InboundStatus the message must end in


@dataclass
class Corpus:
    items: list[Item] = field(default_factory=list)
    run: str = ""

    @property
    def size(self) -> int:
        return sum(len(i.raw) for i in self.items)


def _headers(message: EmailMessage, customer: Customer, subject: str, run: str, n: int) -> str:
    message_id = f"<{run}.{n}@{customer.email.split('@')[1]}>"
    message["From"] = f"{customer.name} <{customer.email}>"
    message["To"] = f"Support <{SUPPORT_ADDRESS}>"
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message["MIME-Version"] = "1.0"
    return message_id


def _body(message: EmailMessage, text: str, *, html: bool, html_only: bool, files: bool, rng: random.Random) -> None:
    paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n") if line)
    if files:
        cid = f"screenshot.{rng.getrandbits(48):x}@bench"
        message.set_content(text)
        message.add_alternative(
            f'<html><body>{paragraphs}<p><img src="cid:{cid}" alt="screenshot"></p></body></html>', subtype="html"
        )
        cast(list[EmailMessage], message.get_payload())[1].add_related(
            _png(), "image", "png", cid=f"<{cid}>", filename="screenshot.png"
        )
        message.add_attachment(_pdf_like(rng), maintype="application", subtype="pdf", filename="report.pdf")
    elif html_only:
        message.set_content(f"<html><body>{paragraphs}</body></html>", subtype="html")
    elif html:
        message.set_content(text)
        message.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
    else:
        message.set_content(text)


def _quote(conversation: Conversation, marker: str) -> str:
    """The previous message quoted under the new text, marker line included, as clients do."""
    lines = [marker, "", *conversation.last_text.split("\n")]
    history = "\n".join(f"> {line}" if line else ">" for line in lines)
    return f"On {formatdate(localtime=False)}, Support wrote:\n{history}\n"


def build_corpus(count: int, seed: int) -> Corpus:
    """`count` messages in the mix the module docstring describes; bounces are left unfinished
    (see finish_bounce)."""
    from django.conf import settings

    marker = settings.TESSERA["REPLY_MARKER"]
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:12]  # Message-IDs unique across runs, so --force appends cleanly
    customers = [
        Customer(f"Customer {i:04d}", f"customer{i:04d}.{run[:6]}@{CUSTOMER_DOMAINS[i % len(CUSTOMER_DOMAINS)]}")
        for i in range(max(10, count // 4))
    ]
    corpus = Corpus(run=run)
    conversations: list[Conversation] = []

    def sender(preferred: Customer | None = None) -> Customer | None:
        if preferred is not None:
            return preferred if preferred.sent < MESSAGES_PER_CUSTOMER else None
        fresh = [c for c in rng.sample(customers, min(8, len(customers))) if c.sent < MESSAGES_PER_CUSTOMER - 2]
        return fresh[0] if fresh else None

    for n in range(count):
        roll = rng.random()
        kind = "new"
        if conversations and roll < 0.37:
            kind = "reply"
        elif conversations and roll < 0.43:
            kind = "auto_reply"
        elif conversations and roll < 0.45:
            kind = "bounce"
        conversation = rng.choice(conversations[-200:]) if kind != "new" and conversations else None
        customer = sender(conversation.customer) if conversation else sender()
        if customer is None:  # this customer has written enough: open a ticket for someone else
            kind, conversation, customer = "new", None, sender()
        if customer is None:
            customer = Customer(f"Customer extra {n}", f"extra{n}.{run[:6]}@example.com")
            customers.append(customer)
        customer.sent += 1
        item = Item(kind=kind, conversation=conversation)
        if kind in ("new", "reply"):
            item.attachments = rng.random() < 0.20
            item.html = item.attachments or rng.random() < 0.30
            html_only = item.html and not item.attachments and rng.random() < 0.2
            message = EmailMessage()
            if kind == "new":
                subject, text = rng.choice(TOPICS)
                subject, text = subject.format(n=40_000 + n), text.format(n=40_000 + n)
                text = f"Hello,\n\n{text}\n\nKind regards,\n{customer.name}"
                mid = _headers(message, customer, subject, run, n)
                item.conversation = Conversation(customer, subject, [mid], text)
                conversations.append(item.conversation)
                item.expected = "ticket"
            else:
                assert conversation is not None  # only a new ticket has none
                text = f"{rng.choice(REPLIES)}\n\n{customer.name}"
                mid = _headers(message, customer, f"Re: {conversation.subject}", run, n)
                message["In-Reply-To"] = conversation.ids[-1]
                message["References"] = " ".join(conversation.ids[-10:])
                conversation.ids.append(mid)
                full = f"{text}\n\n{_quote(conversation, marker)}"
                conversation.last_text = text
                text = full
                item.expected = "reply"
            _body(message, text, html=item.html, html_only=html_only, files=item.attachments, rng=rng)
            item.raw = message.as_bytes()
        elif kind == "auto_reply":
            assert conversation is not None  # only a new ticket has none
            message = EmailMessage()
            _headers(message, customer, f"Automatic reply: {conversation.subject}", run, n)
            message["In-Reply-To"] = conversation.ids[-1]
            message["References"] = conversation.ids[-1]
            message["Auto-Submitted"] = "auto-replied"
            message["X-Auto-Response-Suppress"] = "All"
            message.set_content(f"I am out of the office until Monday.\n\n{customer.name}")
            item.raw = message.as_bytes()
            item.expected = "event"
        else:
            item.expected = "event"  # finished by finish_bounce when its turn comes
        corpus.items.append(item)
    return corpus


def finish_bounce(item: Item, ticket_mail_id: str, n: int, run: str) -> bytes:
    """A delivery status notification, as Postfix writes one, about the notification with
    Message-ID `ticket_mail_id` (bare) that the desk sent to the customer."""
    assert item.conversation is not None  # a bounce answers a conversation's notification
    customer = item.conversation.customer
    mx = f"mx{n % 97}.{customer.email.split('@')[1]}"  # many MTAs: the sender rate limit is per address
    boundary = f"bounce-{run}-{n}"
    date = formatdate(localtime=False)
    return (
        f"Return-Path: <>\n"
        f"From: MAILER-DAEMON@{mx} (Mail Delivery System)\n"
        f"To: {SUPPORT_ADDRESS}\n"
        f"Subject: Undelivered Mail Returned to Sender\n"
        f"Date: {date}\n"
        f"Message-ID: <{run}.{n}.bounce@{mx}>\n"
        f"Auto-Submitted: auto-replied\n"
        f"MIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\n'
        f"\n"
        f"--{boundary}\n"
        f"Content-Type: text/plain; charset=us-ascii\n"
        f"\n"
        f"I'm sorry to have to inform you that your message could not be delivered to one or more\n"
        f"recipients.\n\n<{customer.email}>: host mx said: 550 5.1.1 User unknown\n"
        f"\n"
        f"--{boundary}\n"
        f"Content-Type: message/delivery-status\n"
        f"\n"
        f"Reporting-MTA: dns; {mx}\n"
        f"Arrival-Date: {date}\n"
        f"\n"
        f"Final-Recipient: rfc822; {customer.email}\n"
        f"Action: failed\n"
        f"Status: 5.1.1\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
        f"\n"
        f"--{boundary}\n"
        f"Content-Type: text/rfc822-headers\n"
        f"\n"
        f"From: Support <{SUPPORT_ADDRESS}>\n"
        f"To: {customer.email}\n"
        f"Subject: Re: {item.conversation.subject}\n"
        f"Message-ID: <{ticket_mail_id}>\n"
        f"\n"
        f"--{boundary}--\n"
    ).encode()


# ---------------------------------------------------------------------------- the desk and the run


def make_desk() -> None:
    """Support at SUPPORT_ADDRESS with agents (their alerts are part of the work per message)."""
    from tessera.accounts.models import Agent, Department, Membership, Role, User
    from tessera.tickets.defaults import ensure_defaults
    from tessera.tickets.models import Priority, Status

    ensure_defaults(Priority, Status, Role)
    support, _created = Department.objects.get_or_create(
        name="Support (ingest bench)", defaults={"email": SUPPORT_ADDRESS}
    )
    role = Role.objects.get(name="Agent")
    for i, email in enumerate(AGENT_EMAILS, start=1):
        user = User.objects.filter(email=email).first() or User.objects.create_user(email, name=f"Ingest Agent {i}")
        agent, _created = Agent.objects.get_or_create(user=user)
        Membership.objects.get_or_create(agent=agent, department=support, defaults={"role": role, "is_primary": True})


def latest_notification_to(item: Item) -> str | None:
    """The Message-ID (bare) of the newest notification the desk sent the bouncing customer
    about the conversation; None when it sent none (with --tasks dummy nothing is sent)."""
    from tessera.mail.models import Delivery, InboundMessage

    assert item.conversation is not None  # a bounce answers a conversation's notification
    first = item.conversation.ids[0].strip("<>")
    ticket_id = InboundMessage.objects.filter(message_id__in=[first, f"<{first}>"]).values_list("ticket_id", flat=True)
    mid = (
        Delivery.objects.filter(ticket_id__in=list(ticket_id), recipient__iexact=item.conversation.customer.email)
        .order_by("-pk")
        .values_list("message_id", flat=True)
        .first()
    )
    return mid.strip("<>") if mid else None


@dataclass
class Result:
    kind: str
    seconds: float
    status: str
    expected: str
    reason: str
    html: bool
    attachments: bool
    mails: int


def _ingest_one(corpus: Corpus, n: int, item: Item) -> Result:
    from django.core import mail

    from tessera.mail.ingest import ingest

    if item.kind == "bounce":
        sent = latest_notification_to(item)
        if sent is None:  # about mail we never sent: kept, on no ticket
            item.expected = "rejected"
        item.raw = finish_bounce(item, sent or f"never-sent.{corpus.run}.{n}@bench-desk.example", n, corpus.run)
    mail.outbox = []
    started = time.perf_counter()
    inbound = ingest(item.raw, channel="pipe")
    seconds = time.perf_counter() - started
    return Result(
        item.kind,
        seconds,
        inbound.status,
        item.expected,
        inbound.reason,
        item.html,
        item.attachments,
        len(mail.outbox),
    )


def run(corpus: Corpus) -> tuple[list[Result], float]:
    """One message after another; the wall time is the sum of the messages' own times."""
    results: list[Result] = []
    wall = 0.0
    for n, item in enumerate(corpus.items):
        results.append(_ingest_one(corpus, n, item))
        wall += results[-1].seconds
        if (n + 1) % 500 == 0:
            print(f"  {n + 1} messages, {(n + 1) / wall:.0f} msg/s so far", flush=True)
    return results, wall


def shares(corpus: Corpus, workers: int) -> list[list[int]]:
    """The corpus's message numbers dealt out to `workers` by conversation, round robin: a
    conversation's messages stay in one worker, in order, as they would reach the desk (a
    reply can only thread onto a ticket that exists)."""
    owner: dict[int, int] = {}
    dealt: list[list[int]] = [[] for _ in range(workers)]
    for n, item in enumerate(corpus.items):
        key = id(item.conversation)
        if key not in owner:
            owner[key] = len(owner) % workers
        dealt[owner[key]].append(n)
    return dealt


_FORKED: Corpus | None = None  # the corpus, inherited by forked workers instead of pickled


def _work(share: list[int]) -> list[tuple[int, Result]]:
    from django.db import connections

    try:
        corpus = _FORKED
        assert corpus is not None  # set by the parent before it forks
        return [(n, _ingest_one(corpus, n, corpus.items[n])) for n in share]
    finally:
        connections.close_all()


def run_concurrently(corpus: Corpus, workers: int) -> tuple[list[Result], float]:
    """`workers` processes ingest their shares at the same time against the same database, as
    concurrent deliveries do (an MTA's LMTP sessions to `serve_lmtp --workers N`). The wall
    time is the real time from the first message to the last."""
    import multiprocessing

    from django.db import connections

    global _FORKED
    _FORKED = corpus
    connections.close_all()  # each worker opens its own connection
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        started = time.perf_counter()
        done = pool.map(_work, shares(corpus, workers))
        wall = time.perf_counter() - started
    ordered = sorted((pair for part in done for pair in part), key=lambda pair: pair[0])
    return [result for _n, result in ordered], wall


def _ms(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def report(results: list[Result], wall: float, vendor: str, *, concurrent: bool = False, mails: bool = True) -> int:
    """Per kind: count, rate, latency; overall rate against the target; and every message that
    did not end as its kind should. `concurrent`: messages overlapped, so only the overall rate
    means anything (a kind's latencies include waiting for a worker). `mails`: whether mail
    handed to the backend could be counted (not when another process sends it)."""
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        groups["all"].append(r)
        groups[r.kind].append(r)
        if r.html and r.kind in ("new", "reply"):
            groups["  with HTML"].append(r)
        if r.attachments:
            groups["  with attachments"].append(r)
    order = ["all", "new", "reply", "auto_reply", "bounce", "  with HTML", "  with attachments"]
    print(f"\n{'kind':<20} {'count':>6} {'msg/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'mails':>6}")
    for name in order:
        group = groups.get(name)
        if not group:
            continue
        seconds = [r.seconds for r in group]
        rate = "-" if concurrent else f"{len(group) / sum(seconds):.0f}"
        sent = f"{sum(r.mails for r in group)}" if mails else "-"
        print(f"{name:<20} {len(group):>6} {rate:>8} {_ms(seconds, 50):>8.1f} {_ms(seconds, 95):>8.1f} {sent:>6}")
    if concurrent:
        print("(messages overlapped: a kind's own rate is not shown; its times include waiting for a worker)")
    print("('mails': notifications rendered and handed to the mail backend because of those messages)")
    outcomes = Counter(r.status for r in results)
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    wrong = [r for r in results if r.status != r.expected]
    answered = [r for r in results if r.kind in ("auto_reply", "bounce") and r.mails]
    overall = len(results) / wall
    print(f"\noverall: {len(results)} messages in {wall:.1f} s = {overall:.0f} messages/second")
    if vendor == "postgresql":
        verdict = "met" if overall >= TARGET_PER_SECOND else "NOT met"
        print(f"target >= {TARGET_PER_SECOND} messages/second on PostgreSQL: {verdict}")
    if answered:
        print(f"PROBLEM: {len(answered)} automatic replies or bounces caused mail to be sent")
    if wrong:
        print(f"PROBLEM: {len(wrong)} messages did not end as their kind should:")
        for (kind, expected, status, reason), n in Counter(
            (r.kind, r.expected, r.status, r.reason[:120]) for r in wrong
        ).most_common(8):
            print(f"  {n} x {kind}: expected {expected}, got {status}: {reason}")
    return 1 if wrong or answered else 0


# ---------------------------------------------------------------------------- over LMTP

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _start_lmtp(workers: int) -> tuple[subprocess.Popen, int]:
    """`manage.py serve_lmtp` on a free port, with this process's environment (database, mail,
    tasks, media folder); returns once it says it is listening."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve_lmtp", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline()  # the ready line, or "" if it died first
    if "Listening" not in line:
        server.wait(timeout=30)
        raise SystemExit(f"bench.ingest: serve_lmtp did not start (exit {server.returncode})")
    return server, port


def _stop_lmtp(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _backend_pids(exclude: int) -> list[int]:
    """PostgreSQL backends connected to this database other than this process's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> %s",
            [exclude],
        )
        return [row[0] for row in cursor.fetchall()]


def _send_one(client: smtplib.LMTP, corpus: Corpus, n: int, wire: dict[int, bytes]) -> tuple[float, dict]:
    item = corpus.items[n]
    if item.kind == "bounce":  # made now: it names mail the desk sent about the ticket
        sent = latest_notification_to(item)
        if sent is None:
            item.expected = "rejected"
        item.raw = finish_bounce(item, sent or f"never-sent.{corpus.run}.{n}@bench-desk.example", n, corpus.run)
        wire[n] = re.sub(rb"\r?\n", b"\r\n", item.raw)
    started = time.perf_counter()
    refused = client.sendmail("sender@bench.example", [SUPPORT_ADDRESS], wire[n])
    return time.perf_counter() - started, refused


def run_over_lmtp(corpus: Corpus, workers: int, clients: int) -> tuple[list[Result], float, str]:
    """The corpus through the real door: `serve_lmtp --workers N`, fed by `clients` LMTP
    connections at once; each takes the next conversation when free and sends its messages in
    order, waiting for each reply, as a mail server's LMTP client does. Returns the results,
    the wall time from the first message to the last reply, and a line on the CPU used."""
    from tessera.mail.models import InboundMessage
    from tessera.mail.parse import peek

    server, port = _start_lmtp(workers)
    try:
        processes = [server.pid, *_children(server.pid)]
        before = sum(_cpu_seconds(pid) for pid in processes)
        seconds: dict[int, float] = {}
        failures: list[str] = []
        # On the wire lines end in CRLF; converted before the clock starts.
        wire = {n: re.sub(rb"\r?\n", b"\r\n", item.raw) for n, item in enumerate(corpus.items) if item.raw}
        # Like a mail server's queue: whichever connection is free takes the next conversation
        # (its messages in order, each after the reply to the one before).
        waiting: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
        for conversation in shares(corpus, len(corpus.items)):
            if conversation:
                waiting.put(conversation)

        def send() -> None:
            from django.db import connections

            try:
                with smtplib.LMTP("127.0.0.1", port, timeout=120) as client:
                    while True:
                        try:
                            conversation = waiting.get_nowait()
                        except queue.Empty:
                            return
                        for n in conversation:
                            seconds[n], refused = _send_one(client, corpus, n, wire)
                            if refused:
                                failures.append(f"message {n}: {refused}")
            except smtplib.SMTPException as exc:
                failures.append(str(exc))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=send) for _ in range(clients)]
        client_cpu = time.process_time()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        processes = [server.pid, *_children(server.pid)]
        used = sum(_cpu_seconds(pid) for pid in processes) - before
        own = _own_backend_pid()
        backends = sum(_cpu_seconds(pid) for pid in _backend_pids(own)) if own is not None else None
    finally:
        _stop_lmtp(server)
    if failures:
        raise SystemExit("bench.ingest: LMTP deliveries failed: " + "; ".join(failures[:5]))
    ids = {n: peek(item.raw).message_id.strip()[:255] for n, item in enumerate(corpus.items)}
    stored = InboundMessage.objects.filter(message_id__in=ids.values()).only("status", "reason", "message_id")
    rows = {r.message_id: r for r in stored}
    results = []
    for n, item in enumerate(corpus.items):
        row = rows.get(ids[n])
        results.append(
            Result(
                item.kind,
                seconds[n],
                row.status if row else "missing",
                item.expected,
                row.reason if row else "not stored",
                item.html,
                item.attachments,
                0,
            )
        )
    per = 1000 / len(results)
    cpu = f"CPU per message: serve_lmtp (supervisor and {workers} workers) {used * per:.1f} ms"
    if backends is not None:
        cpu += f", their PostgreSQL backends {backends * per:.1f} ms"
    cpu += f"; this load generator {client_cpu * per:.1f} ms"
    return results, wall, cpu


# ---------------------------------------------------------------------------- the command


def _own_backend_pid() -> int | None:
    """The PostgreSQL server process behind this process's connection (None on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _server_cpu_seconds() -> float | None:
    """CPU time used so far by this connection's PostgreSQL backend process, when the server
    runs on this machine (read from /proc); None otherwise. With the client's own CPU time it
    says how many messages a second the machine's cores could take at most."""
    pid = _own_backend_pid()
    if pid is None or not Path(f"/proc/{pid}").exists():
        return None
    return _cpu_seconds(pid)


def _speed(corpus: Corpus) -> str:
    """A fixed piece of CPU work timed now (parsing 200 corpus messages, best of three), to
    compare runs on a machine whose speed varies: here, by up to a third from hour to hour."""
    from tessera.mail.parse import parse

    sample = [item.raw for item in corpus.items if item.raw][:200]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for raw in sample:
            parse(raw)
        best = min(best, (time.perf_counter() - started) / len(sample))
    return f"reference work (parsing {len(sample)} corpus messages): {best * 1000:.2f} ms a message"


def _machine(label: str) -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{label}: {os.cpu_count()} cores, load average {load}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="how many messages to ingest (default 2000)")
    parser.add_argument("--database-url", help="the database to use (default: the DATABASE_URL environment variable)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--force", action="store_true", help="run against a database that already has tickets")
    parser.add_argument(
        "--tasks",
        choices=["immediate", "dummy", "database"],
        default="immediate",
        help="immediate (default): notifications are rendered inside each message's time; database: they are "
        "queued in the database for a db_worker, as in production (the queueing is timed, the sending is not); "
        "dummy: queued nowhere, to measure ingest alone",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="ingest in this many processes at once, each a share of the conversations (default 1: one after another)",
    )
    parser.add_argument(
        "--via",
        choices=["call", "lmtp"],
        default="call",
        help="call (default): ingest() in this process (or --workers forked ones); lmtp: start "
        "manage.py serve_lmtp --workers N and send the corpus over LMTP, as a mail server does",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=0,
        help="with --via lmtp: LMTP connections at once (default: 4 per worker)",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit(
            "bench.ingest: set DATABASE_URL (or pass --database-url) to the database to use, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench_ingest python -m bench.ingest\n"
            "It never writes to a database that DATABASE_URL does not name."
        )
    from bench.generate import _database_named_by_env, _ensure_postgres_database

    config = _database_named_by_env()
    media = tempfile.mkdtemp(prefix="tessera-bench-ingest-")
    # Before Django reads its settings: mail stays in memory, tasks run in this process, files go
    # to a folder removed at the end, and per-message INFO logging does not time the terminal.
    os.environ.update(
        {
            "EMAIL_URL": "memorymail://",
            "TASKS_BACKEND": TASK_BACKENDS[args.tasks],
            "TESSERA_MEDIA_DIR": media,
        }
    )
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
    try:
        if config["ENGINE"].endswith("postgresql"):
            _ensure_postgres_database(config)
        import django

        django.setup()
        return _measure(args, config)
    finally:
        shutil.rmtree(media, ignore_errors=True)


def _measure(args: argparse.Namespace, config: dict) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from tessera.tickets.models import Ticket

    used = connection.settings_dict
    if str(used["NAME"]) != str(config.get("NAME")) or (used.get("HOST") or "") != (config.get("HOST") or ""):
        raise SystemExit(f"bench.ingest: settings point at {used['NAME']}, DATABASE_URL names {config.get('NAME')}")
    call_command("migrate", interactive=False, verbosity=0)
    if Ticket.objects.exists() and not args.force:
        raise SystemExit(f"bench.ingest: {used['NAME']} already has tickets; use a fresh database or pass --force.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        version = cursor.fetchone()[0].split(" on ")[0]
    make_desk()

    print(f"database: {connection.vendor} {used['NAME']} ({version})")
    print(f"python {platform.python_version()}, {platform.machine()}, {platform.system()} {platform.release()}")
    print(
        f"mail: {settings.MAILERS['default']['BACKEND']} (rendered, not sent); "
        f"tasks: {settings.TASKS['default']['BACKEND']} "
        + {
            "immediate": "(notifications run inside each message's time)",
            "database": "(notifications queued for a db_worker inside each message's time, sent outside it)",
            "dummy": "(queued, never run)",
        }[args.tasks]
    )
    started = time.perf_counter()
    corpus = build_corpus(args.messages, args.seed)
    kinds = Counter(i.kind for i in corpus.items)
    print(
        f"corpus: {len(corpus.items)} messages, {corpus.size / 1e6:.1f} MB, built in "
        f"{time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{k} {kinds[k]}" for k in ("new", "reply", "auto_reply", "bounce") if kinds[k])
        + f"; HTML {sum(i.html for i in corpus.items)}, with attachments {sum(i.attachments for i in corpus.items)}"
    )
    print(_machine("machine before"))
    print(_speed(corpus), flush=True)
    if args.workers == 1 and args.via == "call":
        server = _server_cpu_seconds()
        cpu = time.process_time()
        results, wall = run(corpus)
        cpu = time.process_time() - cpu
        server_end = _server_cpu_seconds()
        server = server_end - server if server is not None and server_end is not None else None
        print(
            f"CPU per message: this process {cpu / len(results) * 1000:.1f} ms"
            + (f", its PostgreSQL backend {server / len(results) * 1000:.1f} ms" if server is not None else "")
        )
    elif args.via == "lmtp":
        results, wall, cpu_report = run_over_lmtp(corpus, args.workers, args.clients or 4 * args.workers)
        print(cpu_report)
    else:
        results, wall = run_concurrently(corpus, args.workers)
    print(_machine("machine after"))
    return report(
        results, wall, connection.vendor, concurrent=args.workers > 1 or args.via == "lmtp", mails=args.via == "call"
    )


if __name__ == "__main__":
    sys.exit(main())
