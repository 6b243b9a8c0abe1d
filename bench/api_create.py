"""Ticket creation throughput through the API, over HTTP against gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench_api \\
        python -m bench.api_create [--clients 4] [--tickets 600] [--rounds 3] [--workers 2]

It migrates the database it is given (use a fresh or a bench database, never production), makes
one API key (a system integration with the `tickets:write` and `osticket` scopes) and a help
topic, starts gunicorn (sync workers, a free port on 127.0.0.1, bench.settings), then in
alternating rounds sends `--tickets` creations through `POST /api/v1/tickets` and through
osTicket's `POST /api/tickets.json`, from `--clients` concurrent clients (threads, a new
connection per request as gunicorn's sync workers close them; each ticket from a new address).

Per endpoint it prints the median over rounds of tickets per second (wall clock, first request
sent to last answer received), the p50/p95 latency seen by the clients, and the CPU spent per
ticket by the server's processes (gunicorn master and workers), by PostgreSQL's processes and by
the clients (this process), all read from /proc: the three share the machine's cores.
Notifications are queued as task rows and not sent (production's set-up with a worker), mail
stays in memory. gunicorn is stopped by its PID.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from itertools import count
from pathlib import Path

from bench.run import ROOT, Server, free_port, p95

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(wanted: Callable[[str, list[str]], bool]) -> float:
    """User and system CPU of every process whose (name, stat fields after the name) `wanted`
    accepts, read from /proc; fields[2] is the process group, [11] and [12] the CPU ticks."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = tail.split()
        if wanted(head.split("(", 1)[-1], fields):
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def group_cpu_seconds(pgid: int) -> float:
    """gunicorn's session: the master and its workers share its process group."""
    return _cpu_seconds(lambda _name, fields: int(fields[2]) == pgid)


def postgres_cpu_seconds() -> float:
    """Every PostgreSQL process on the machine (the bench's backends and the server's helpers),
    readable when the server runs locally; 0 when none is found."""
    return _cpu_seconds(lambda name, _fields: name == "postgres")


def process_cpu_seconds() -> float:
    """This process's CPU: the clients' threads."""
    usage = os.times()
    return usage.user + usage.system


def v1_request(serial: int, key: str, topic: int) -> tuple[str, bytes, dict[str, str]]:
    body = {
        "requester_email": f"client{serial}@api-bench.example",
        "requester_name": f"Client {serial}",
        "topic_id": topic,
        "subject": f"Disk usage above 90% on host {serial}",
        "message": "The monitoring system saw /var at 93 % for ten minutes.\nPlease have a look.",
    }
    return "/api/v1/tickets", json.dumps(body).encode(), {"Authorization": f"Bearer {key}"}


def osticket_request(serial: int, key: str, topic: int) -> tuple[str, bytes, dict[str, str]]:
    body = {
        "name": f"Client {serial}",
        "email": f"client{serial}@api-bench.example",
        "subject": f"Disk usage above 90% on host {serial}",
        "message": "data:text/plain;charset=utf-8,The monitoring system saw /var at 93 % for ten minutes.",
        "ip": "192.0.2.10",
        "topicId": topic,
    }
    return "/api/tickets.json", json.dumps(body).encode(), {"X-API-Key": key}


def run_round(
    port: int, clients: int, tickets: int, make: Callable[[int], tuple[str, bytes, dict[str, str]]], serials: count
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    remaining = count()

    def client() -> None:
        while next(remaining) < tickets:
            with lock:
                serial = next(serials)
            path, body, headers = make(serial)
            begun = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
            response = conn.getresponse()
            text = response.read()
            conn.close()
            elapsed = (time.perf_counter() - begun) * 1000
            with lock:
                latencies.append(elapsed)
                if response.status != 201:
                    failures.append(f"{response.status} {text[:200]!r}")

    threads = [threading.Thread(target=client) for _n in range(clients)]
    begun = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - begun
    if failures:
        raise SystemExit(f"bench.api_create: {len(failures)} creations failed, e.g. {failures[0]}")
    return wall, latencies, len(latencies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_create", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--tickets", type=int, default=600, help="tickets per round and endpoint")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (more than 1: gthread workers)")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("bench.api_create: set DATABASE_URL to a database it may fill")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("CONN_MAX_AGE", "60")
    os.environ.setdefault("TASKS_BACKEND", "database")
    env = dict(os.environ)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from django.db import connection

    from tessera.accounts.models import Department, Role
    from tessera.api import keys
    from tessera.api.models import ApiKey, Scope
    from tessera.tickets.defaults import ensure_defaults
    from tessera.tickets.models import HelpTopic, Priority, Status, Ticket

    ensure_defaults(Priority, Status, Role)
    support, _created = Department.objects.get_or_create(
        name="Support", defaults={"email": "support@api-bench.example"}
    )
    topic, _created = HelpTopic.objects.get_or_create(name="General question", defaults={"department": support})
    ApiKey.objects.filter(name="api-bench").delete()
    _key, raw = keys.issue_key(
        name="api-bench", created_by=None, scopes=[Scope.TICKETS_WRITE, Scope.OSTICKET], rate_limit=0
    )
    before = Ticket.objects.count()
    connection.close()
    print(f"desk: {before:,} tickets on {connection.vendor}; {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    print(
        f"server: gunicorn, {args.workers} workers × {args.threads} threads; {args.clients} concurrent clients; "
        f"{args.tickets} tickets per round and endpoint, {args.rounds} rounds; load {os.getloadavg()[0]:.1f}"
    )

    endpoints: dict[str, Callable[[int], tuple[str, bytes, dict[str, str]]]] = {
        "POST /api/v1/tickets": lambda s: v1_request(s, raw, topic.pk),
        "POST /api/tickets.json": lambda s: osticket_request(s, raw, topic.pk),
    }
    port = free_port()
    server = Server(port, args.workers, env, threads=args.threads)
    serials = count(int(time.time()) * 10_000)
    results: dict[str, list[tuple[float, float, list[float]]]] = {name: [] for name in endpoints}
    try:
        server.wait_ready("/api/v1/openapi.json", timeout=60)
        for make in endpoints.values():  # warm both endpoints up, unmeasured
            run_round(port, args.clients, 20, make, serials)
        for _round in range(args.rounds):
            for name, make in endpoints.items():
                cpu_before = group_cpu_seconds(server.proc.pid)
                pg_before, client_before = postgres_cpu_seconds(), process_cpu_seconds()
                wall, latencies, made = run_round(port, args.clients, args.tickets, make, serials)
                cpu = group_cpu_seconds(server.proc.pid) - cpu_before
                pg_cpu = postgres_cpu_seconds() - pg_before
                client_cpu = process_cpu_seconds() - client_before
                results[name].append((made / wall, cpu * 1000 / made, latencies))
                print(
                    f"  {name}: {made / wall:.1f} tickets/s; CPU per ticket: server {cpu * 1000 / made:.2f} ms, "
                    f"PostgreSQL {pg_cpu * 1000 / made:.2f} ms, clients {client_cpu * 1000 / made:.2f} ms",
                    flush=True,
                )
    finally:
        server.stop()
    for name, rounds in results.items():
        rates = [r[0] for r in rounds]
        cpus = [r[1] for r in rounds]
        latencies = [lat for r in rounds for lat in r[2]]
        print(
            f"{name}: median {statistics.median(rates):.1f} tickets/s (rounds: "
            f"{', '.join(f'{r:.1f}' for r in rates)}), {statistics.median(cpus):.2f} ms server CPU per ticket, "
            f"latency p50 {statistics.median(latencies):.1f} ms / p95 {p95(latencies):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
