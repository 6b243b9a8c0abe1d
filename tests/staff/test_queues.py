"""The dashboard and the queues an agent works from."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tessera.tickets import selectors, services
from tessera.tickets.models import Ticket

from .conftest import ticket_url


def open_tickets(desk, n: int, *, subject: str = "Printer problem") -> list[Ticket]:
    return [
        services.open_ticket(
            desk.ken, requester=desk.ken, subject=f"{subject} {i}", message="Help.", topic=desk.general
        )
        for i in range(n)
    ]


def queue_link(html: str, slug: str) -> str:
    match = re.search(rf'<a href="/staff/queues/{slug}/"[^>]*>.*?</a>', html, re.S)
    assert match, f"no link to the {slug} queue"
    return match.group(0)


def count_in(html: str, slug: str) -> str:
    return re.search(r'<span class="count">([^<]*)</span>', queue_link(html, slug)).group(1)


def test_john_sees_kens_ticket_in_unassigned_and_open_queues_with_counts(as_agent, desk, ken_ticket):
    client = as_agent(desk.john)
    for slug in ("unassigned", "open"):
        html = client.get(f"/staff/queues/{slug}/").content.decode()
        assert f'href="{ticket_url(ken_ticket)}" title="Printer jams">Printer jams</a>' in html
        assert 'aria-current="page"' in queue_link(html, slug)
        assert count_in(html, "unassigned") == "1"
        assert count_in(html, "open") == "1"
        assert count_in(html, "mine") == "0"
        assert count_in(html, "closed") == "0"


def test_sidebar_lists_every_system_queue(as_agent, desk):
    html = as_agent(desk.john).get("/staff/").content.decode()
    for label in ("My tickets", "My teams", "Unassigned", "Open in my departments", "Closed"):
        assert f"<span>{label}</span>" in html


def test_dashboard_shows_open_in_my_departments_while_john_has_no_tickets(as_agent, desk, ken_ticket):
    html = as_agent(desk.john).get("/staff/").content.decode()
    assert "<h1>Open in my departments</h1>" in html
    assert 'aria-current="page"' in queue_link(html, "open")
    assert "Printer jams" in html


def test_dashboard_shows_my_tickets_once_john_has_one(as_agent, desk, ken_ticket):
    services.claim(desk.john.user, ken_ticket)
    html = as_agent(desk.john).get("/staff/").content.decode()
    assert "<h1>My tickets</h1>" in html
    assert 'aria-current="page"' in queue_link(html, "mine")
    assert "Printer jams" in html


def test_queue_row_shows_user_priority_status_assignee_department_and_update_time(as_agent, desk, ken_ticket):
    desk.john.user.time_zone = "Asia/Tokyo"
    desk.john.user.save()
    services.set_priority(desk.john.user, ken_ticket, priority=desk.sev_a)
    services.assign(desk.john.user, ken_ticket, agent=desk.jane)
    html = as_agent(desk.john).get("/staff/queues/open/").content.decode()
    row_pattern = rf'<tr [^>]*>\s*<td class="select">.*?<td class="num">#{ken_ticket.number}</td>.*?</tr>'
    row = re.search(row_pattern, html, re.S).group(0)
    assert "Ken Adams" in row
    assert '<span class="badge badge-priority priority-1">Sev-A (Emergency)</span>' in row
    assert '<span class="badge state-open">Open</span>' in row
    assert "Jane Doe" in row
    assert "Support" in row
    ken_ticket.refresh_from_db()
    tokyo = timezone.localtime(ken_ticket.updated_at, timezone=ZoneInfo("Asia/Tokyo"))
    assert f'datetime="{tokyo.isoformat()}"' in row
    assert "+09:00" in row


def test_bill_in_billing_does_not_see_kens_ticket(as_agent, desk, ken_ticket):
    client = as_agent(desk.bill)
    for slug in ("mine", "teams", "unassigned", "open", "closed"):
        html = client.get(f"/staff/queues/{slug}/").content.decode()
        assert "Printer jams" not in html
        assert count_in(html, slug) == "0"


def test_bill_gets_a_404_that_does_not_reveal_the_ticket_exists(as_agent, desk, ken_ticket):
    client = as_agent(desk.bill)
    hidden = client.get(ticket_url(ken_ticket))
    missing = client.get("/staff/tickets/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert f"Ticket #{ken_ticket.number} does not exist or is not in your departments." in hidden.content.decode()
    assert "Ticket #999999 does not exist or is not in your departments." in missing.content.decode()
    assert "Printer jams" not in hidden.content.decode()


def test_empty_queue_shows_a_friendly_message(as_agent, desk):
    html = as_agent(desk.john).get("/staff/queues/closed/").content.decode()
    assert "Nothing in Closed right now." in html
    assert "<table" not in html


def test_unknown_queue_is_a_404_page(as_agent, desk):
    response = as_agent(desk.john).get("/staff/queues/nonsense/")
    assert response.status_code == 404
    assert "There is no queue called" in response.content.decode()


def test_older_tickets_link_pages_through_a_long_queue(as_agent, desk, monkeypatch):
    monkeypatch.setattr(selectors, "QUEUE_PAGE_SIZE", 2)
    tickets = open_tickets(desk, 5)
    # Two tickets share one timestamp: the cursor's id must break the tie.
    same = timezone.now() - timedelta(minutes=1)
    Ticket.objects.filter(pk__in=[tickets[1].pk, tickets[2].pk]).update(updated_at=same)
    newest_first = list(Ticket.objects.order_by("-updated_at", "-id").values_list("subject", flat=True))

    client = as_agent(desk.john)
    url, seen = "/staff/queues/open/", []
    for _page in range(3):
        html = client.get(url).content.decode()
        seen += re.findall(r'<td class="subject"><a href="[^"]+"[^>]*>([^<]+)</a>', html)
        older = re.search(r'<a class="button button-secondary" href="([^"]+)">Older tickets</a>', html)
        if older is None:
            break
        url = older.group(1).replace("&amp;", "&")
        assert url.startswith("/staff/queues/open/?before=")
        assert "before_id=" in url
    assert older is None
    assert seen == newest_first
    assert "Newest tickets" in html


def test_older_tickets_link_on_the_dashboard_stays_in_its_queue(as_agent, desk, monkeypatch):
    monkeypatch.setattr(selectors, "QUEUE_PAGE_SIZE", 2)
    open_tickets(desk, 3)
    html = as_agent(desk.john).get("/staff/").content.decode()
    assert 'href="/staff/queues/open/?before=' in html


def test_no_older_tickets_link_when_everything_fits_on_one_page(as_agent, desk):
    open_tickets(desk, 3)
    assert "Older tickets" not in as_agent(desk.john).get("/staff/queues/open/").content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "before=yesterday&before_id=1",
        "before=2026-01-01T00:00:00Z&before_id=abc",
        "before=2026-01-01T00:00:00Z",
        "before=2026-01-01T00:00:00&before_id=5",  # no time zone
        "before=9999-12-31T23:59:59-14:00&before_id=5",
        "before=0001-01-01T00:00:00%2B14:00&before_id=5",
        "before=2026-01-01T00:00:00Z&before_id=99999999999999999999999",
        "before=2026-01-01T00:00:00Z&before_id=-3",
        "before=%00&before_id=%00",
    ],
)
def test_malformed_cursor_shows_the_first_page_instead_of_failing(as_agent, desk, ken_ticket, query):
    response = as_agent(desk.john).get(f"/staff/queues/open/?{query}")
    assert response.status_code == 200
    assert "Printer jams" in response.content.decode()


def test_hand_typed_cursor_with_an_unescaped_plus_still_works(as_agent, desk, ken_ticket):
    # An unescaped "+00:00" reaches the server as " 00:00"; read it as meant, not as garbage.
    earlier = (ken_ticket.updated_at - timedelta(hours=1)).isoformat()
    assert "+00:00" in earlier
    html = as_agent(desk.john).get(f"/staff/queues/open/?before={earlier}&before_id=1").content.decode()
    assert "Printer jams" not in html
    assert "No older tickets." in html


def test_counts_past_the_cap_read_as_cap_plus(as_agent, desk, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    open_tickets(desk, 4)
    html = as_agent(desk.john).get("/staff/queues/open/").content.decode()
    assert count_in(html, "open") == "2+"
    assert count_in(html, "closed") == "0"


def test_counts_show_thousands_grouped(desk):
    from tessera.staff.templatetags.staff_tags import queue_count

    assert queue_count(1234) == "1,234"
    assert queue_count(selectors.COUNT_CAP + 1) == "10,000+"


def test_typing_a_ticket_number_in_the_jump_box_opens_it(as_agent, desk, ken_ticket):
    client = as_agent(desk.john)
    for typed in (str(ken_ticket.number), f"#{ken_ticket.number}", f"  {ken_ticket.number} "):
        response = client.get("/staff/jump/", {"q": typed})
        assert response.status_code == 302
        assert response["Location"] == ticket_url(ken_ticket)


def test_text_typed_in_the_old_jump_box_is_searched(as_agent, desk):
    response = as_agent(desk.john).get("/staff/jump/", {"q": "printer jams", "from": "/staff/queues/closed/"})
    assert response.status_code == 302
    assert response["Location"] == "/staff/search/?q=printer+jams"


def test_jump_box_never_redirects_off_site(as_agent, desk):
    response = as_agent(desk.john).get("/staff/jump/", {"from": "//evil.example/"})
    assert response["Location"] == "/staff/"


def queue_queries(client, url: str) -> int:
    client.get(url)  # warm up: first-request work (sessions, content types) is not the queue's
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("slug", ["open", "unassigned", "mine"])
def test_queue_page_costs_the_same_queries_with_3_or_30_tickets(as_agent, desk, slug):
    def fill(n: int) -> None:
        for i, t in enumerate(open_tickets(desk, n)):
            if slug == "mine":
                services.assign(desk.john.user, t, agent=desk.john)
            elif i % 3 == 0:  # some rows with an assignee and a team to draw
                services.assign(desk.john.user, t, agent=desk.jane, team=desk.ops)

    client = as_agent(desk.john)
    fill(3)
    with_3 = queue_queries(client, f"/staff/queues/{slug}/")
    fill(27)
    with_30 = queue_queries(client, f"/staff/queues/{slug}/")
    assert with_3 == with_30


def test_queue_page_query_budget(as_agent, desk, django_assert_max_num_queries):
    """Session, user, agent, memberships, teams; the reference tables once each (priorities,
    statuses, departments, teams, topics: tickets.reference); the filter form's agents and
    organisations; one page and its requesters and assignees (none here: nobody is assigned);
    the saved queues; one statement for every sidebar count; the bulk bar's agents: 17."""
    open_tickets(desk, 5)
    client = as_agent(desk.john)
    client.get("/staff/queues/open/")
    with django_assert_max_num_queries(17):
        client.get("/staff/queues/open/")


def test_sidebar_counts_are_reused_for_a_short_while_then_recounted(desk, ken_ticket, settings):
    from django.core.cache import cache

    from tessera.tickets import selectors, services

    cache.clear()
    settings.TESSERA = {**settings.TESSERA, "COUNTS_CACHE_SECONDS": 60}
    assert selectors.queue_counts(desk.john)["unassigned"] == 1
    services.open_ticket(desk.ken, requester=desk.ken, subject="Second", message="Hi", topic=desk.general)
    assert selectors.queue_counts(desk.john)["unassigned"] == 1  # reused within the minute
    cache.clear()  # the minute is over
    assert selectors.queue_counts(desk.john)["unassigned"] == 2
