"""Measure the agent workspace over HTTP against gunicorn, one line per figure.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench python -m bench.run [--requests 200] [--check]

Starts gunicorn (2 sync workers, a free port on 127.0.0.1) with bench.settings, signs in as
the bench agent through the real sign-in form, follows the open queue's "Older tickets" link
200 pages deep to find the deep page, warms every page up, then requests each page N times in
a row (one request at a time, a new connection each, as gunicorn's sync workers close them)
and prints the median and p95 of the server time (X-Server-Time-ms, measured inside the
worker) and of the wall time seen by this client, with each page's SQL query count and the
median time spent in SQL (X-SQL-Time-ms; the rest of the server time is Python).

Query counts are compared with bench/query_counts.json (what the tests assert at ~1,000
tickets); a difference is printed loudly. --check exits 1 when a target is missed:
queue pages p95 ≤ 60 ms, ticket page p95 ≤ 80 ms, search p95 ≤ 150 ms (server time).
gunicorn is stopped by its PID at the end, also on Ctrl-C and errors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench.pages import Page, Response

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------- the HTTP client


class Browser:
    """Just enough of a browser: cookies, a CSRF token, one connection per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: dict | None = None, *, cookies: bool = True
    ) -> tuple[Response, float]:
        headers = {"Host": f"127.0.0.1:{self.port}", "User-Agent": "tessera-bench"}
        if cookies and self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=data, headers=headers)
            raw = conn.getresponse()
            payload = raw.read()
            wall_ms = (time.perf_counter() - started) * 1000
            header_list = raw.getheaders()
        finally:
            conn.close()
        for name, value in header_list:
            if name.lower() == "set-cookie" and cookies:
                jar = SimpleCookie()
                jar.load(value)
                for key, morsel in jar.items():
                    self.cookies[key] = morsel.value
        response = Response(raw.status, payload.decode("utf-8", "replace"), {k.lower(): v for k, v in header_list})
        return response, wall_ms

    def get(self, path: str, *, cookies: bool = True) -> Response:
        return self.request("GET", path, cookies=cookies)[0]

    def sign_in(self, email: str, password: str) -> None:
        page = self.get("/staff/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if page.status != 200 or not match:
            raise SystemExit(f"bench.run: the sign-in page answered {page.status} without a form")
        response, _ms = self.request(
            "POST",
            "/staff/login/",
            {"csrfmiddlewaretoken": match.group(1), "username": email, "password": password},
        )
        if response.status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"bench.run: signing in as {email} failed ({response.status}); is BENCH_PASSWORD right?")


# ---------------------------------------------------------------------------- gunicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn in its own session, stopped by PID (SIGTERM, then SIGKILL after 20 s)."""

    def __init__(self, port: int, workers: int, env: dict[str, str], threads: int = 1) -> None:
        self.port = port
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [
                str(gunicorn),
                "tessera.wsgi",
                "--workers",
                str(workers),
                "--threads",  # more than 1: gunicorn's gthread worker
                str(threads),
                "--bind",
                f"127.0.0.1:{port}",
                "--error-logfile",
                "-",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench.run: gunicorn exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"bench.run: gunicorn did not answer within {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------------------- measuring


@dataclass
class Figure:
    key: str
    label: str
    path: str | None
    status: int | None = None
    server_median: float | None = None
    server_p95: float | None = None
    wall_median: float | None = None
    wall_p95: float | None = None
    sql_median: float | None = None
    queries: list[int] | None = None
    target_p95_ms: float | None = None
    note: str = ""

    @property
    def query_count(self) -> int | None:
        if not self.queries:
            return None
        return max(set(self.queries), key=self.queries.count)

    @property
    def missed(self) -> bool:
        return self.target_p95_ms is not None and self.server_p95 is not None and self.server_p95 > self.target_p95_ms


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]  # nearest rank


def measure(browser: Browser, page: Page, requests: int, warmup: int) -> Figure:
    figure = Figure(page.key, page.label, page.path, target_p95_ms=page.target_p95_ms, note=page.note)
    if page.path is None:
        figure.note = figure.note or "not available (no such page yet)"
        return figure
    cookies = not page.anonymous
    for _ in range(warmup):
        browser.request("GET", page.path, cookies=cookies)
    server, wall, sql, queries, statuses = [], [], [], [], set()
    for _ in range(requests):
        response, wall_ms = browser.request("GET", page.path, cookies=cookies)
        statuses.add(response.status)
        wall.append(wall_ms)
        if response.server_ms is not None:
            server.append(response.server_ms)
        if response.sql_ms is not None:
            sql.append(response.sql_ms)
        if response.query_count is not None:
            queries.append(response.query_count)
    figure.status = max(statuses)
    if statuses != {200}:
        figure.note = f"answered {sorted(statuses)} — not a working page" + (f"; {figure.note}" if figure.note else "")
    figure.server_median, figure.server_p95 = statistics.median(server), p95(server)
    figure.wall_median, figure.wall_p95 = statistics.median(wall), p95(wall)
    figure.sql_median = statistics.median(sql) if sql else None
    figure.queries = queries
    return figure


def line(f: Figure) -> str:
    if f.server_median is None:
        return f"{f.label:<40} {f.note}"
    counts = sorted(set(f.queries or []))
    q = str(counts[0]) if len(counts) == 1 else "/".join(map(str, counts))
    target = ""
    if f.target_p95_ms is not None:
        target = f"  target p95 ≤ {f.target_p95_ms:.0f} ms: {'MISSED' if f.missed else 'met'}"
    note = f"  ({f.note})" if f.note else ""
    return (
        f"{f.label:<40} server median {f.server_median:7.1f} ms  p95 {f.server_p95:7.1f} ms | "
        f"wall median {f.wall_median:7.1f} ms  p95 {f.wall_p95:7.1f} ms | {q:>3} queries, "
        f"SQL median {f.sql_median or 0:6.1f} ms{target}{note}"
    )


def machine() -> str:
    load = Path("/proc/loadavg").read_text().split()[:3]
    busy = subprocess.run(
        ["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"], capture_output=True, text=True
    ).stdout.splitlines()[:5]
    return f"load average {' '.join(load)}; busiest processes: " + ", ".join(" ".join(b.split()) for b in busy)


# ---------------------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="measured requests per page (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests per page first (default 10)")
    parser.add_argument("--deep-pages", type=int, default=200, help="how many pages deep the deep page is")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--conn-max-age", default=os.environ.get("CONN_MAX_AGE", "60"), help="seconds (default 60)")
    parser.add_argument("--only", help="comma-separated page keys to measure (e.g. queue,ticket,floor)")
    parser.add_argument(
        "--no-counts-cache",
        action="store_true",
        help="recount the queues on every request (TESSERA_COUNTS_CACHE_SECONDS=0): the worst case",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("bench.run: set DATABASE_URL to the generated desk (make bench-data)")

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["CONN_MAX_AGE"] = str(args.conn_max_age)
    if args.no_counts_cache:
        os.environ["TESSERA_COUNTS_CACHE_SECONDS"] = "0"
    counts_cache = os.environ.get("TESSERA_COUNTS_CACHE_SECONDS", "default")
    env = dict(os.environ)
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    static_note = "manifest static files (collected into var/bench-static)"
    if collected.returncode != 0:
        env["BENCH_PLAIN_STATIC"] = os.environ["BENCH_PLAIN_STATIC"] = "1"
        static_note = "PLAIN static storage: collectstatic failed: " + collected.stderr.strip().splitlines()[-1][:200]
        print(f"warning: {static_note}", flush=True)

    import django

    django.setup()
    from django.db import connection

    from bench import querycounts
    from bench.generate import BENCH_AGENT_EMAIL, DEFAULT_BENCH_PASSWORD
    from bench.pages import check_filtered, facts, pages
    from tessera.tickets.models import Ticket

    f = facts()
    tickets = Ticket.objects.count()
    connection.close()
    password = os.environ.get("BENCH_PASSWORD") or DEFAULT_BENCH_PASSWORD
    started_at = datetime.now(UTC)
    name = connection.settings_dict["NAME"]
    print(f"desk: {tickets:,} tickets on {connection.vendor} ({name}); {started_at:%Y-%m-%d %H:%M} UTC")
    print(f"machine: {os.cpu_count()} cores; {machine()}")
    print(
        f"server: gunicorn, {args.workers} sync workers, CONN_MAX_AGE={args.conn_max_age}, DEBUG off, {static_note}, "
        f"TESSERA_COUNTS_CACHE_SECONDS={counts_cache}; "
        f"{args.requests} requests per page after {args.warmup} warm-up, one at a time",
        flush=True,
    )

    port = free_port()
    server = Server(port, args.workers, env)

    def stop_on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, stop_on_signal)
    figures: list[Figure] = []
    try:
        server.wait_ready(f"/bench/floor/?n={f.floor_number}")
        browser = Browser(port)
        browser.sign_in(BENCH_AGENT_EMAIL, password)
        t = time.monotonic()
        measured_pages = pages(browser.get, f, deep_pages=args.deep_pages)
        print(f"deep page found by following {args.deep_pages} cursors in {time.monotonic() - t:.0f} s", flush=True)
        only = set(args.only.split(",")) if args.only else None
        print()
        for page in measured_pages:
            if only and page.key not in only:
                continue
            if page.key == "filtered" and page.path:
                first = browser.get(page.path)
                if first.status != 200:
                    page.note = f"answered {first.status}: filter/sort parameters not accepted"
                else:
                    page.note = "; ".join(check_filtered(first.text, f.sev_b))
            figure = measure(browser, page, args.requests, args.warmup)
            figures.append(figure)
            print(line(figure), flush=True)
    except KeyboardInterrupt as exc:
        print(f"\ninterrupted ({exc}); stopping gunicorn", file=sys.stderr)
        return 130
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)

    by_key = {fig.key: fig for fig in figures}
    queue, floor = by_key.get("queue"), by_key.get("floor")
    if queue and floor and queue.server_median and floor.server_median and queue.wall_median and floor.wall_median:
        server_ratio, wall_ratio = queue.server_median / floor.server_median, queue.wall_median / floor.wall_median
        print(
            f"\nqueue page / framework floor (signed in): {server_ratio:.1f}× server median, "
            f"{wall_ratio:.1f}× wall median"
        )
    anon = by_key.get("floor_anon")
    if queue and anon and queue.server_median and anon.server_median:
        print(
            f"queue page / framework floor (anonymous): {queue.server_median / anon.server_median:.1f}× server median"
        )
    print(f"after the run: {machine()}")

    counts = {fig.key: fig.query_count for fig in figures if fig.status == 200 or fig.path is None}
    if querycounts.PATH.exists():
        wanted = querycounts.expected(counts_cache=not args.no_counts_cache)
        diff = querycounts.differences(counts, {k: v for k, v in wanted.items() if k in counts})
        if diff:
            print("\n" + "!" * 78)
            print(f"!! QUERY COUNTS DIFFER from bench/query_counts.json at {tickets:,} tickets:")
            for d in diff:
                print(f"!!   {d}")
            print("!" * 78)
        else:
            print(f"query counts: same as bench/query_counts.json (the ~1,000-ticket test) at {tickets:,} tickets")

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "tickets": tickets,
                    "vendor": connection.vendor,
                    "started_at": started_at.isoformat(),
                    "requests": args.requests,
                    "workers": args.workers,
                    "figures": [{**asdict(fig), "queries": fig.query_count} for fig in figures],
                },
                indent=2,
            )
            + "\n"
        )
    missed = [fig for fig in figures if fig.missed]
    if missed:
        print(
            "targets missed: "
            + ", ".join(f"{m.label} (p95 {m.server_p95:.0f} > {m.target_p95_ms:.0f} ms)" for m in missed)
        )
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
