"""The API's ticket list beside the workspace queue page it mirrors, over HTTP against gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench_1m python -m bench.api_list [--requests 200]

On a desk filled by `bench.generate`, it makes an API key that acts as the bench agent, starts
gunicorn (2 sync workers, bench.settings, which adds X-Server-Time-ms measured inside the
worker), signs in to the workspace as the same agent, and requests, one at a time, 50 rows each:

- the open queue, first page: `/staff/queues/open/` and `/api/v1/tickets?queue=open`;
- Sev-B, newest created first: `?priority=<Sev-B>&sort=-created` on both;
- 200 pages deep: the workspace's "Older tickets" link and the API's `next` cursor, followed.

It prints server-time median and p95 per request and the API's p95 as a share of the page's.
The target (issue 13) is the API within 20 % of the workspace page. The key is deleted and
gunicorn stopped by its PID at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from urllib.parse import quote

from bench.pages import follow_deep
from bench.run import Browser, Server, free_port, p95


class KeyClient(Browser):
    """The bench's HTTP client, sending an API key instead of cookies."""

    def __init__(self, port: int, key: str) -> None:
        super().__init__(port)
        self.key = key

    def api(self, path: str) -> tuple[int, dict, float | None]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {self.key}", "User-Agent": "tessera-bench"})
            raw = conn.getresponse()
            body = raw.read()
            server = raw.getheader("X-Server-Time-ms")
        finally:
            conn.close()
        return raw.status, json.loads(body or b"{}"), float(server) if server else None


def timed(fetch, requests: int, warmup: int) -> list[float]:
    for _n in range(warmup):
        fetch()
    times = []
    for _n in range(requests):
        server_ms = fetch()
        if server_ms is None:
            raise SystemExit("bench.api_list: no X-Server-Time-ms header (bench.settings not in use?)")
        times.append(server_ms)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_list", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--deep-pages", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("bench.api_list: set DATABASE_URL to the generated desk (make bench-data)")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("CONN_MAX_AGE", "60")
    os.environ.setdefault("BENCH_PLAIN_STATIC", "1")  # pages are timed inside the worker; assets are not fetched
    env = dict(os.environ)

    import django

    django.setup()
    from django.db import connection

    from bench.generate import BENCH_AGENT_EMAIL, DEFAULT_BENCH_PASSWORD
    from tessera.accounts.models import Agent
    from tessera.api import keys
    from tessera.api.models import ApiKey, Scope
    from tessera.tickets.models import Priority, Ticket

    agent = Agent.objects.select_related("user").get(user__email=BENCH_AGENT_EMAIL)
    sev_b = Priority.objects.get(urgency=2).pk
    ApiKey.objects.filter(name="api-list-bench").delete()
    key, raw = keys.issue_key(
        name="api-list-bench", created_by=None, agent=agent, scopes=[Scope.TICKETS_READ], rate_limit=0
    )
    tickets = Ticket.objects.count()
    connection.close()
    print(f"desk: {tickets:,} tickets on {connection.vendor}; load {os.getloadavg()[0]:.1f}")
    print(f"server: gunicorn, {args.workers} sync workers; {args.requests} requests each after {args.warmup} warm-up")

    port = free_port()
    server = Server(port, args.workers, env)
    rows: list[tuple[str, list[float], list[float]]] = []
    try:
        server.wait_ready("/api/v1/openapi.json")
        browser = Browser(port)
        browser.sign_in(BENCH_AGENT_EMAIL, os.environ.get("BENCH_PASSWORD") or DEFAULT_BENCH_PASSWORD)
        client = KeyClient(port, raw)

        # The deep pages: follow each side's own "older" link/cursor.
        page_path, _depth = follow_deep(browser.get, "/staff/queues/open/", args.deep_pages)
        api_path = "/api/v1/tickets?queue=open&limit=50"
        for _n in range(args.deep_pages):
            _status, body, _ms = client.api(api_path)
            if not body.get("next"):
                break
            api_path = f"/api/v1/tickets?queue=open&limit=50&cursor={quote(body['next'])}"

        cases = [
            ("open queue, first page", "/staff/queues/open/", "/api/v1/tickets?queue=open&limit=50"),
            (
                "Sev-B, newest created first",
                f"/staff/queues/open/?priority={sev_b}&sort=-created",
                f"/api/v1/tickets?queue=open&priority={sev_b}&sort=-created&limit=50",
            ),
            (f"{args.deep_pages} pages deep", page_path, api_path),
        ]
        for label, workspace, api in cases:
            status, _body, _ms = client.api(api)
            if status != 200:
                raise SystemExit(f"bench.api_list: {api} answered {status}")
            page_times = timed(lambda w=workspace: browser.get(w).server_ms, args.requests, args.warmup)
            api_times = timed(lambda a=api: client.api(a)[2], args.requests, args.warmup)
            rows.append((label, page_times, api_times))
    finally:
        server.stop()
        ApiKey.objects.filter(pk=key.pk).delete()
    print("| list | workspace page median / p95 (ms) | API median / p95 (ms) | API p95 vs page |")
    print("|---|---|---|---|")
    for label, page_times, api_times in rows:
        ratio = p95(api_times) / p95(page_times) - 1
        print(
            f"| {label} | {statistics.median(page_times):.1f} / {p95(page_times):.1f} | "
            f"{statistics.median(api_times):.1f} / {p95(api_times):.1f} | {ratio:+.0%} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
