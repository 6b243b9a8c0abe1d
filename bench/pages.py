"""The pages the benchmarks measure, shared by bench.run (over HTTP), bench.explain and the
query-count check (in process, through Django's test client), so all three look at the same
requests.

A page may not exist yet (another part of issue 3 adds it): it is then reported as not
available instead of failing the run.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

QUERY_COUNTS_FILE = "query_counts.json"
DEEP_PAGES = 200


@dataclass
class Response:
    status: int
    text: str
    headers: dict[str, str]  # lower-cased names

    @property
    def query_count(self) -> int | None:
        raw = self.headers.get("x-query-count")
        return int(raw) if raw is not None else None

    @property
    def server_ms(self) -> float | None:
        raw = self.headers.get("x-server-time-ms")
        return float(raw) if raw is not None else None

    @property
    def sql_ms(self) -> float | None:
        raw = self.headers.get("x-sql-time-ms")
        return float(raw) if raw is not None else None


Fetch = Callable[[str], Response]


@dataclass
class Page:
    key: str
    label: str
    path: str | None  # None: not available
    target_p95_ms: float | None = None  # server time
    note: str = ""
    anonymous: bool = False  # fetched without the session cookie
    problems: list[str] = field(default_factory=list)


@dataclass
class Facts:
    """What the pages need to know about the generated desk."""

    long_ticket: int
    sev_b: int
    floor_number: int
    search_common: str
    search_rare: str
    # The generated "Office" custom field's biggest and a small office (item ids); None on a
    # desk generated before the field existed.
    office_common: int | None = None
    office_rare: int | None = None


def facts() -> Facts:
    """Read from the database (needs Django set up)."""
    from django.db.models import Count

    from bench.generate import LONG_TICKET_ENTRIES, LONG_TICKET_SUBJECT, OFFICE_FIELD_KEY, OFFICE_SHARES
    from bench.text import COMMON_WORD, RARE_WORD
    from tessera.customfields.models import ChoiceItem
    from tessera.tickets.models import Priority, Ticket

    long_ticket = (
        Ticket.objects.filter(subject=LONG_TICKET_SUBJECT)
        .annotate(n=Count("entries"))
        .filter(n=LONG_TICKET_ENTRIES)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    if long_ticket is None:
        raise SystemExit("No generated desk here: run `make bench-data` (python -m bench.generate) first.")
    sev_b = Priority.objects.filter(urgency=2).values_list("pk", flat=True).get()
    numbers = Ticket.objects.order_by("number").values_list("number", flat=True)
    lowest, highest = numbers.first(), numbers.last()
    assert lowest is not None and highest is not None  # the desk has tickets (checked above)
    offices = dict(ChoiceItem.objects.filter(choice_list__fields__key=OFFICE_FIELD_KEY).values_list("label", "pk"))
    by_share = sorted(OFFICE_SHARES, key=OFFICE_SHARES.__getitem__)
    return Facts(
        office_common=offices.get(by_share[-1]),
        office_rare=offices.get(by_share[0]),
        long_ticket=long_ticket,
        sev_b=sev_b,
        floor_number=(lowest + highest) // 2,
        search_common=COMMON_WORD,
        search_rare=RARE_WORD,
    )


def _exists(path: str, *, catch_all: tuple[str, ...] = ()) -> bool:
    """Is `path` served by a view of its own (not a 404, not a catch-all such as queues/<slug>/)?"""
    from django.urls import Resolver404, resolve

    try:
        match = resolve(path.split("?", 1)[0])
    except Resolver404:
        return False
    return match.url_name not in catch_all


_OLDER = re.compile(r'class="pager"[^>]*>.*?href="([^"]+)"', re.S)
_ANY_CURSOR = re.compile(r'href="([^"]*before_id=[^"]*)"')
TICKET_LINK = re.compile(r'href="/staff/tickets/(\d+)/"')


def older_link(page_html: str) -> str | None:
    match = _OLDER.search(page_html) or _ANY_CURSOR.search(page_html)
    return html.unescape(match.group(1)) if match else None


def follow_deep(fetch: Fetch, start: str, pages: int = DEEP_PAGES) -> tuple[str, int]:
    """Follow "Older tickets" up to `pages` times; return the last page's path and how deep it is."""
    path, depth = start, 0
    while depth < pages:
        response = fetch(path)
        if response.status != 200:
            break
        link = older_link(response.text)
        if link is None:
            break
        path, depth = link, depth + 1
    return path, depth


def pages(fetch: Fetch, f: Facts, *, deep_pages: int = DEEP_PAGES) -> list[Page]:
    """Every measured page, with its path resolved (the deep page by following cursors)."""
    queue = "/staff/queues/open/"
    deep_path, depth = follow_deep(fetch, queue, deep_pages)
    deep = Page("deep", f"queue, {depth} pages deep", deep_path if depth else None, 60)
    if depth < deep_pages:
        deep.note = f"only {depth} older pages exist"
    filtered = Page("filtered", "queue, Sev-B, newest created first", f"{queue}?priority={f.sev_b}&sort=-created", 60)
    office_common = Page(
        "custom_field",
        "queue, custom field Office = its biggest office (30% of answers)",
        f"{queue}?cf_office={f.office_common}" if f.office_common else None,
        60,
    )
    office_rare = Page(
        "custom_field_rare",
        "queue, custom field Office = a small office (1% of answers)",
        f"{queue}?cf_office={f.office_rare}" if f.office_rare else None,
        60,
    )
    search = "/staff/search/"
    has_search = _exists(search)
    has_counts = _exists("/staff/queues/counts/", catch_all=("queue",))
    return [
        Page("queue", "queue (open, first page)", queue, 60),
        deep,
        filtered,
        office_common,
        office_rare,
        Page("ticket", "ticket page, 200 entries", f"/staff/tickets/{f.long_ticket}/", 80),
        Page(
            "search_common",
            f"search “{f.search_common}” (common)",
            f"{search}?q={f.search_common}" if has_search else None,
            150,
        ),
        Page(
            "search_rare",
            f"search “{f.search_rare}” (rare)",
            f"{search}?q={f.search_rare}" if has_search else None,
            150,
        ),
        Page("counts", "sidebar counts", "/staff/queues/counts/" if has_counts else None),
        # Every workspace request loads the session and the user (the time zone middleware asks
        # for it), so the floor a page can reach is those two queries plus its own one.
        Page("floor", "framework floor, signed in", f"/bench/floor/?n={f.floor_number}"),
        Page("floor_anon", "framework floor, anonymous", f"/bench/floor/?n={f.floor_number}", anonymous=True),
    ]


def check_filtered(page_html: str, sev_b: int) -> list[str]:
    """Did the queue really filter by priority and sort by created, newest first?"""
    from tessera.tickets.models import Ticket

    numbers = [int(n) for n in TICKET_LINK.findall(page_html)]
    numbers = list(dict.fromkeys(numbers))
    if not numbers:
        return ["the filtered queue shows no tickets"]
    rows = {
        n: (p, c)
        for n, p, c in Ticket.objects.filter(number__in=numbers).values_list("number", "priority_id", "created_at")
    }
    problems = []
    if any(rows[n][0] != sev_b for n in numbers if n in rows):
        problems.append("priority filter ignored (other priorities listed)")
    created = [rows[n][1] for n in numbers if n in rows]
    if created != sorted(created, reverse=True):
        problems.append("sort=-created ignored (rows not newest-created first)")
    return problems
