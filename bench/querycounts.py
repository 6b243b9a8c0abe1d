"""Each benchmarked page's SQL query count, which must not grow with the desk.

bench/query_counts.json holds the expected count per page. tests/test_bench_smoke.py checks
them on a desk of about 1,000 generated tickets (in process, through Django's test client and
the benchmark middleware); bench.run checks them again over HTTP on whatever desk it runs
against (1,000,000 tickets) and warns loudly when they differ. Together: the same count at
1,000 and at 1,000,000 tickets.

    DATABASE_URL=sqlite:////tmp/bench1k.sqlite3 python -m bench.generate --tickets 1000
    DATABASE_URL=sqlite:////tmp/bench1k.sqlite3 python -m bench.querycounts [--write]

--write records the counts measured now (after a page legitimately changed its queries).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench.pages import QUERY_COUNTS_FILE, Facts, Fetch, Response, facts, pages

PATH = Path(__file__).resolve().parent / QUERY_COUNTS_FILE


def client_fetch(client) -> Fetch:
    """A Fetch over Django's test client (the benchmark middleware must be installed)."""

    def fetch(path: str) -> Response:
        r = client.get(path)
        body = r.content.decode("utf-8", "replace") if not r.streaming else ""
        return Response(r.status_code, body, {k.lower(): v for k, v in r.headers.items()})

    return fetch


def measure(fetch: Fetch, f: Facts, anonymous: Fetch) -> dict[str, int | None]:
    """Query count per page after one warm-up request (caches a worker fills once)."""
    counts: dict[str, int | None] = {}
    for page in pages(fetch, f):
        if page.path is None:
            counts[page.key] = None
            continue
        get = anonymous if page.anonymous else fetch
        get(page.path)
        response = get(page.path)
        counts[page.key] = response.query_count if response.status == 200 else None
    return counts


COLD = "pages_without_counts_cache"


def expected(*, counts_cache: bool = True) -> dict[str, int | None]:
    """The recorded counts: with the queue-counts cache on (warm, what agents mostly hit) or
    off (every request recounts the sidebar: TESSERA_COUNTS_CACHE_SECONDS=0)."""
    return json.loads(PATH.read_text())["pages" if counts_cache else COLD]


def measure_both(fetch: Fetch, f: Facts, anonymous: Fetch) -> tuple[dict[str, int | None], dict[str, int | None]]:
    """(counts with the counts cache on, counts with it off), from a cleared cache."""
    from django.conf import settings
    from django.core.cache import cache
    from django.test import override_settings

    results = []
    for seconds in (20, 0):
        cache.clear()
        with override_settings(TESSERA={**settings.TESSERA, "COUNTS_CACHE_SECONDS": seconds}):
            results.append(measure(fetch, f, anonymous))
    return results[0], results[1]


def differences(measured: dict[str, int | None], wanted: dict[str, int | None]) -> list[str]:
    out = []
    for key in sorted(set(measured) | set(wanted)):
        got, want = measured.get(key), wanted.get(key)
        if got != want:
            out.append(f"{key}: {got} queries, expected {want}")
    return out


def write(warm: dict[str, int | None], cold: dict[str, int | None]) -> None:
    doc = {
        "about": "SQL queries per page, the same at 1,000 and 1,000,000 tickets; null = page not available. "
        "'pages': with the queue-counts cache on (the default); '" + COLD + "': with "
        "TESSERA_COUNTS_CACHE_SECONDS=0. Checked by tests/test_bench_smoke.py and bench.run; "
        "rewrite with python -m bench.querycounts --write.",
        "pages": warm,
        COLD: cold,
    }
    PATH.write_text(json.dumps(doc, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.querycounts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"record the counts in bench/{QUERY_COUNTS_FILE}")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("bench.querycounts: set DATABASE_URL to a generated desk")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("BENCH_PLAIN_STATIC", "1")  # the test client needs no collected files
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from bench.generate import BENCH_AGENT_EMAIL
    from tessera.accounts.models import User

    setup_test_environment()
    client = Client()
    client.force_login(User.objects.get(email=BENCH_AGENT_EMAIL))
    warm, cold = measure_both(client_fetch(client), facts(), client_fetch(Client()))
    print(f"{'page':<15} {'counts cached':>13} {'recounted':>10}")
    for key in warm:
        print(f"{key:<15} {_show(warm[key]):>13} {_show(cold.get(key)):>10}")
    if args.write:
        write(warm, cold)
        print(f"written to {PATH}")
        return 0
    if PATH.exists():
        diff = differences(warm, expected()) + [
            f"(recounted) {d}" for d in differences(cold, expected(counts_cache=False))
        ]
        for line in diff:
            print("DIFFERENT:", line)
        return 1 if diff else 0
    return 0


def _show(count: int | None) -> str:
    return "n/a" if count is None else str(count)


if __name__ == "__main__":
    sys.exit(main())
