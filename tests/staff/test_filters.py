"""Queue filters, sorting, columns, keyset paging, live counts and new arrivals."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tessera.accounts.models import Organization
from tessera.staff.filters import SORTS, QueueFilter
from tessera.tickets import selectors, services
from tessera.tickets.models import Source, Ticket

from .test_queues import count_in, open_tickets, queue_link


def subjects(html: str) -> list[str]:
    return re.findall(r'<td class="subject"><a href="[^"]+"[^>]*>([^<]+)</a>', html)


def older_link(html: str) -> str | None:
    found = re.search(r'<a class="button button-secondary" href="([^"]+)">Older tickets</a>', html)
    return found.group(1).replace("&amp;", "&") if found else None


def page_through(client, url: str) -> list[str]:
    seen: list[str] = []
    for _ in range(50):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        html = response.content.decode()
        seen += subjects(html)
        older = older_link(html)
        if older is None:
            return seen
        url = older
    raise AssertionError("paging did not end")


@pytest.fixture
def mixed(desk):
    """Six Support tickets that differ in everything a filter or sort can look at, with ties
    (two share an update time) and NULLs (no assignee, no due date) to trip keyset paging."""
    acme = Organization.objects.create(name="Acme")
    tickets = open_tickets(desk, 6, subject="Case")
    now = timezone.now()
    a, b, c, d, e, f = tickets
    services.set_priority(desk.john.user, a, priority=desk.sev_a)
    services.set_priority(desk.john.user, b, priority=desk.sev_b)
    services.set_priority(desk.john.user, d, priority=desk.sev_d)
    services.assign(desk.john.user, a, agent=desk.john)
    services.assign(desk.john.user, c, agent=desk.olga)
    services.assign(desk.john.user, e, agent=desk.jane, team=desk.ops)
    services.set_status(desk.john.user, d, status=desk.pending)
    services.set_status(desk.john.user, f, status=desk.resolved)
    services.reply(desk.john.user, b, message="On it.")
    Ticket.objects.filter(pk=a.pk).update(due_at=now - timedelta(hours=2), source=Source.EMAIL, organization=acme)
    Ticket.objects.filter(pk=b.pk).update(due_at=now + timedelta(days=1), subject="Another case")
    Ticket.objects.filter(pk=c.pk).update(due_at=now + timedelta(days=1))  # a tie on due
    # Earlier than the rest, but still today (the date filters below count on it, also just after midnight).
    start_of_today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    same = max(now - timedelta(minutes=5), start_of_today)
    Ticket.objects.filter(pk__in=[c.pk, d.pk]).update(updated_at=same)  # a tie on updated
    Ticket.objects.filter(pk=f.pk).update(created_at=now - timedelta(days=10))
    # d, e and f have no due date (the one their SLA plan gave is cleared), for the NULLs above.
    Ticket.objects.filter(pk__in=[d.pk, e.pk, f.pk]).update(due_at=None)
    for t in tickets:
        t.refresh_from_db()
    return tickets


# ---------------------------------------------------------------------------- filtering


def test_filter_by_priority_and_department_shows_only_matching_tickets(as_agent, desk, mixed):
    a, b, *_ = mixed
    client = as_agent(desk.john)
    query = urlencode([("priority", desk.sev_a.pk), ("priority", desk.sev_b.pk), ("department", desk.support.pk)])
    html = client.get(f"/staff/queues/open/?{query}").content.decode()
    assert sorted(subjects(html)) == sorted([a.subject, b.subject])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "pending"}, [3]),
        ({"status": "RESOLVED"}, [5]),
        ({"team": "none"}, [0, 1, 2, 3, 5]),
        ({"team": "OPS"}, [4]),
        ({"assignee": "none"}, [1, 3, 5]),
        ({"assignee": "JOHN"}, [0]),
        ({"topic": "GENERAL"}, [0, 1, 2, 3, 4, 5]),
        ({"source": "email"}, [0]),
        ({"org": "ACME"}, [0]),
        ({"user": "Ken@Example.com"}, [0, 1, 2, 3, 4, 5]),
        ({"user": "KEN_ID"}, [0, 1, 2, 3, 4, 5]),
        ({"user": "nobody@example.com"}, []),
        ({"answered": "yes"}, [1]),
        ({"answered": "no"}, [0, 2, 3, 4, 5]),
        ({"overdue": "yes"}, [0]),
        ({"due_after": "TOMORROW"}, [1, 2]),
        ({"due_before": "TODAY"}, [0]),
        ({"created_before": "LAST_WEEK"}, [5]),
        ({"created_after": "TODAY"}, [0, 1, 2, 3, 4]),
        ({"updated_after": "TODAY", "updated_before": "TODAY"}, [0, 1, 2, 3, 4, 5]),
    ],
)
def test_each_filter_narrows_the_queue(as_agent, desk, mixed, params, expected):
    resolved_ids = {
        "RESOLVED": desk.resolved.pk,
        "OPS": desk.ops.pk,
        "JOHN": desk.john.pk,
        "GENERAL": desk.general.pk,
        "ACME": Organization.objects.get(name="Acme").pk,
        "KEN_ID": desk.ken.pk,
    }
    today = timezone.localdate()
    days = {"TODAY": today, "TOMORROW": today + timedelta(days=1), "LAST_WEEK": today - timedelta(days=7)}
    query = {k: str(resolved_ids.get(v, days[v].isoformat() if v in days else v)) for k, v in params.items()}
    html = as_agent(desk.john).get("/staff/queues/all/", query, follow=True).content.decode()
    assert sorted(subjects(html)) == sorted(mixed[i].subject for i in expected)


def test_date_filters_use_the_agents_time_zone(as_agent, desk, ken_ticket):
    desk.john.user.time_zone = "Asia/Tokyo"
    desk.john.user.save()
    # 20:00 UTC on 1 March is already 2 March in Tokyo.
    Ticket.objects.filter(pk=ken_ticket.pk).update(created_at=datetime(2026, 3, 1, 20, 0, tzinfo=ZoneInfo("UTC")))
    client = as_agent(desk.john)
    on_second = client.get("/staff/queues/all/?created_after=2026-03-02&created_before=2026-03-02").content.decode()
    on_first = client.get("/staff/queues/all/?created_after=2026-03-01&created_before=2026-03-01").content.decode()
    assert subjects(on_second) == ["Printer jams"]
    assert subjects(on_first) == []


def test_filters_combine_with_the_queues_own_rule(as_agent, desk, mixed):
    a = mixed[0]
    client = as_agent(desk.john)
    html = client.get(f"/staff/queues/mine/?priority={desk.sev_a.pk}").content.decode()
    assert subjects(html) == [a.subject]
    html = client.get(f"/staff/queues/mine/?priority={desk.sev_b.pk}").content.decode()
    assert subjects(html) == []
    assert "Nothing in My tickets matches these filters." in html


def test_filters_never_reveal_tickets_outside_the_agents_reach(as_agent, desk, mixed):
    html = as_agent(desk.bill).get(f"/staff/queues/all/?department={desk.support.pk}").content.decode()
    assert subjects(html) == []


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("priority=999", "Priority “999” was ignored: there is no such choice."),
        ("priority=abc", "Priority “abc” was ignored: there is no such choice."),
        ("state=sleeping", "State “sleeping” was ignored: there is no such state."),
        ("team=x", "Team “x” was ignored: there is no such choice."),
        ("source=pigeon", "Channel “pigeon” was ignored: there is no such channel."),
        ("user=ken", "Requester “ken” was ignored: give the requester&#x27;s email address or user id."),
        ("answered=maybe", "Answered “maybe” was ignored: use “yes” or “no”."),
        ("created_after=yesterday", "Created from “yesterday” was ignored: that is not a date"),
        ("due_before=2026-02-31", "Due until “2026-02-31” was ignored: that is not a date"),
        ("sort=colour", "“colour” is not a way to sort; sorted by last update instead."),
        ("cols=user,shoe", "“shoe” is not a column; it was left out."),
        ("department=" + "9" * 30, "was ignored: there is no such choice."),
    ],
)
def test_invalid_filter_values_are_explained_on_the_page_not_a_500(as_agent, desk, ken_ticket, query, problem):
    response = as_agent(desk.john).get(f"/staff/queues/open/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert problem in html
    assert "Some filters could not be used:" in html
    assert "Printer jams" in html  # the rest of the page still works


def test_applied_filters_show_as_chips_that_remove_one_filter_each(as_agent, desk, mixed):
    client = as_agent(desk.john)
    url = f"/staff/queues/open/?priority={desk.sev_a.pk}&priority={desk.sev_b.pk}&sort=priority"
    html = client.get(url).content.decode()
    chips = re.findall(r'<a class="chip" href="([^"]+)" aria-label="Remove filter ([^"]+)">', html)
    assert [label for _href, label in chips] == ["Priority: Sev-A (Emergency)", "Priority: Sev-B (High)"]
    remove_a = chips[0][0].replace("&amp;", "&")
    assert remove_a == f"/staff/queues/open/?priority={desk.sev_b.pk}&sort=priority"
    assert subjects(client.get(remove_a).content.decode()) == ["Another case"]


def test_apply_filters_lands_on_a_clean_address_and_clear_filters_keeps_the_sort(as_agent, desk, mixed):
    client = as_agent(desk.john)
    # What the form sends: every field, most of them empty.
    form = f"team=&assignee=&priority={desk.sev_a.pk}&topic=&sort=priority&created_after=&cols=&cols=user"
    response = client.get(f"/staff/queues/open/?{form}")
    assert response.status_code == 302
    assert response["Location"] == f"/staff/queues/open/?priority={desk.sev_a.pk}&sort=priority"
    response = client.get(f"/staff/queues/open/?priority={desk.sev_a.pk}&sort=priority&clear=1")
    assert response["Location"] == "/staff/queues/open/?sort=priority"


# ---------------------------------------------------------------------------- sorting and paging


def full_order(sort: str) -> list[str]:
    """What one big ORDER BY says, with NULLs last: the order paging must reproduce."""
    qf = QueueFilter.from_params({"sort": sort})
    return [t.subject for t in qf.ordered(Ticket.objects.all())]


@pytest.mark.parametrize("sort", [s for name in SORTS for s in (name, f"-{name}")])
def test_keyset_paging_visits_every_ticket_once_in_order_for_every_sort(as_agent, desk, mixed, sort, monkeypatch):
    monkeypatch.setattr(selectors, "QUEUE_PAGE_SIZE", 2)
    # Subjects must be unique to compare orders.
    for i, t in enumerate(mixed):
        Ticket.objects.filter(pk=t.pk).update(subject=f"{t.subject} {i}")
    expected = full_order(sort)
    seen = page_through(as_agent(desk.john), f"/staff/queues/all/?sort={sort}")
    assert seen == expected
    assert len(seen) == len(mixed)


def test_sort_by_priority_lists_the_most_urgent_first(as_agent, desk, mixed):
    html = as_agent(desk.john).get("/staff/queues/open/?sort=priority").content.decode()
    urgencies = [int(u) for u in re.findall(r"badge-priority priority-(\d)", html)]
    assert urgencies == sorted(urgencies)
    assert urgencies[0] == 1


def test_due_sort_puts_tickets_without_a_due_date_last_either_way(desk, mixed):
    for sort in ("due", "-due"):
        qf = QueueFilter.from_params({"sort": sort})
        dues = [t.due_at for t in qf.ordered(Ticket.objects.all())]
        assert dues[-3:] == [None, None, None]
        assert None not in dues[:3]


def test_column_headers_sort_and_the_active_one_says_so(as_agent, desk, mixed):
    client = as_agent(desk.john)
    html = client.get("/staff/queues/open/").content.decode()
    updated = r'<th scope="col" class="col-updated" aria-sort="descending"><a href="/staff/queues/open/\?sort=updated"'
    assert re.search(updated, html)
    assert re.search(r'<th scope="col" class="col-priority"><a href="/staff/queues/open/\?sort=priority"', html)
    html = client.get("/staff/queues/open/?sort=priority").content.decode()
    priority = r'class="col-priority" aria-sort="ascending"><a href="/staff/queues/open/\?sort=-priority"'
    assert re.search(priority, html)
    assert 'aria-sort="descending"' not in html
    assert '<option value="priority" selected>Priority, most urgent first</option>' in html


def test_paging_keeps_filters_and_sort(as_agent, desk, mixed, monkeypatch):
    monkeypatch.setattr(selectors, "QUEUE_PAGE_SIZE", 1)
    html = as_agent(desk.john).get("/staff/queues/all/?state=open&sort=subject").content.decode()
    link = older_link(html)
    assert link.startswith("/staff/queues/all/?state=open&sort=subject&before=")
    assert "before_id=" in link


def test_a_malformed_cursor_for_any_sort_shows_the_first_page(as_agent, desk, mixed):
    client = as_agent(desk.john)
    for sort in ("priority", "-due", "subject", "-created"):
        for before in ("x", "", "2026-13-01T00:00:00Z", "99999999999999999999999"):
            response = client.get("/staff/queues/all/", {"sort": sort, "before": before, "before_id": "x"})
            assert response.status_code == 200


# ---------------------------------------------------------------------------- columns


def test_chosen_columns_are_shown_and_remembered_for_the_agent(as_agent, desk, ken_ticket):
    client = as_agent(desk.john)
    response = client.get("/staff/queues/open/?cols=&cols=due&cols=topic")
    assert response.status_code == 302  # the choice goes to the session, not the address
    html = client.get("/staff/queues/open/").content.decode()
    heads = re.findall(r'<th scope="col" class="col-(\w+)"', html)
    assert heads == ["number", "subject", "topic", "due"]
    assert '<td class="col-topic"><span class="cut" title="General question">General question</span></td>' in html
    assert "Priority" not in re.search(r"<thead>.*?</thead>", html, re.S).group(0)
    # Remembered on other queues too, and in the Columns fieldset.
    html = client.get("/staff/queues/all/").content.decode()
    assert re.findall(r'<th scope="col" class="col-(\w+)"', html) == ["number", "subject", "topic", "due"]
    assert '<input type="checkbox" name="cols" value="due" checked>' in html
    assert '<input type="checkbox" name="cols" value="user">' in html


# ---------------------------------------------------------------------------- system queues


def test_new_system_queues_list_what_their_names_say(as_agent, desk, mixed):
    a, b, _c, d, _e, f = mixed
    client = as_agent(desk.john)
    expect = {
        "pending": [d],
        "overdue": [a],
        "answered": [b],
        "resolved": [f],
        "all": mixed,
    }
    html = ""
    for slug, tickets in expect.items():
        html = client.get(f"/staff/queues/{slug}/").content.decode()
        assert sorted(subjects(html)) == sorted(t.subject for t in tickets), slug
    for slug, tickets in expect.items():
        assert count_in(html, slug) == str(len(tickets))
    for label in ("Waiting on customer", "Overdue", "Answered", "Resolved", "All I can see"):
        assert f"<span>{label}</span>" in html


def test_all_i_can_see_includes_closed_tickets_not_other_departments(as_agent, desk, mixed):
    services.set_status(desk.john.user, mixed[5], status=desk.closed)
    elsewhere = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Server down", message="x", topic=desk.outage
    )
    html = as_agent(desk.john).get("/staff/queues/all/").content.decode()
    assert mixed[5].subject in subjects(html)
    assert elsewhere.subject not in subjects(html)


# ---------------------------------------------------------------------------- live counts and arrivals


def test_counts_fragment_returns_the_sidebar_lists_with_fresh_counts(as_agent, desk, mixed):
    client = as_agent(desk.john)
    response = client.get("/staff/queues/counts/?current=open", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert count_in(html, "open") == "6"
    assert 'aria-current="page"' in queue_link(html, "open")
    open_tickets(desk, 1)
    assert count_in(client.get("/staff/queues/counts/").content.decode(), "open") == "7"


def test_queue_page_polls_the_counts_fragment(as_agent, desk, settings):
    settings.TESSERA = {**settings.TESSERA, "COUNTS_POLL_SECONDS": 7}
    html = as_agent(desk.john).get("/staff/queues/open/").content.decode()
    assert 'hx-get="/staff/queues/counts/?current=open" hx-trigger="every 7s"' in html


def test_counts_fragment_tells_htmx_to_stop_when_signed_out(client, desk):
    assert client.get("/staff/queues/counts/").status_code == 286


def arrivals_url(html: str) -> str:
    return re.search(r'data-arrivals-url="([^"]+)"', html).group(1).replace("&amp;", "&")


def first_row(html: str) -> tuple[str, str]:
    found = re.search(r'<tr id="ticket-row-\d+"[^>]* data-id="(\d+)" data-cursor="([^"]*)"', html)
    return found.group(2), found.group(1)


def test_arrivals_endpoint_returns_only_tickets_newer_than_the_first_row(as_agent, desk, mixed):
    client = as_agent(desk.john)
    html = client.get(f"/staff/queues/open/?priority={desk.sev_c.pk}").content.decode()
    url = arrivals_url(html)
    after, after_id = first_row(html)
    assert client.get(f"{url}&after={after}&after_id={after_id}").status_code == 204
    fresh = open_tickets(desk, 2, subject="Fresh")
    response = client.get(f"{url}&after={after}&after_id={after_id}")
    assert response.status_code == 200
    rows = response.content.decode()
    assert subjects(rows) == [fresh[1].subject, fresh[0].subject]
    assert 'class="new"' in rows
    assert '<span class="badge badge-new">New</span>' in rows
    assert 'name="tickets" value="' in rows  # the bulk checkbox comes along


def test_arrivals_respect_the_filters(as_agent, desk, mixed):
    client = as_agent(desk.john)
    html = client.get(f"/staff/queues/open/?priority={desk.sev_a.pk}").content.decode()
    url = arrivals_url(html)
    after, after_id = first_row(html)
    open_tickets(desk, 1)  # Sev-C by default: not for this list
    assert client.get(f"{url}&after={after}&after_id={after_id}").status_code == 204


def test_arrivals_are_offered_only_on_the_first_page_sorted_newest_first(as_agent, desk, mixed, monkeypatch):
    client = as_agent(desk.john)
    assert "data-arrivals-url" in client.get("/staff/queues/open/").content.decode()
    assert "data-arrivals-url" in client.get("/staff/queues/open/?sort=-created").content.decode()
    assert "data-arrivals-url" not in client.get("/staff/queues/open/?sort=priority").content.decode()
    monkeypatch.setattr(selectors, "QUEUE_PAGE_SIZE", 2)
    second = older_link(client.get("/staff/queues/open/").content.decode())
    assert "data-arrivals-url" not in client.get(second).content.decode()


def test_arrivals_for_an_empty_queue_start_from_the_page_time(as_agent, desk):
    client = as_agent(desk.john)
    html = client.get("/staff/queues/unassigned/").content.decode()
    card = re.search(r'id="queue-empty" data-arrivals-url="([^"]+)" data-poll-seconds="\d+" data-after="([^"]+)"', html)
    url, after = card.group(1).replace("&amp;", "&"), card.group(2)
    assert client.get(f"{url}&after={after}&after_id=0").status_code == 204
    ticket = open_tickets(desk, 1)[0]
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now() + timedelta(seconds=1))
    assert subjects(client.get(f"{url}&after={after}&after_id=0").content.decode()) == [ticket.subject]


# ---------------------------------------------------------------------------- query counts


def queries(client, url: str, **extra) -> int:
    client.get(url, **extra)  # warm up
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code in (200, 204), (url, response.status_code)
    return len(ctx.captured_queries)


def fill(desk, n: int) -> None:
    for i, t in enumerate(open_tickets(desk, n, subject="Load")):
        if i % 2 == 0:
            services.assign(desk.john.user, t, agent=desk.jane, team=desk.ops)
        if i % 3 == 0:
            services.set_priority(desk.john.user, t, priority=desk.sev_a)


def test_queue_pages_cost_the_same_queries_with_3_or_30_tickets(as_agent, desk):
    client = as_agent(desk.john)
    filtered = (
        f"/staff/queues/open/?priority={desk.sev_a.pk}&priority={desk.sev_c.pk}&department={desk.support.pk}"
        f"&assignee=none&sort=-priority"
    )
    urls = ["/staff/", "/staff/queues/open/", filtered, "/staff/queues/all/?sort=assignee", "/staff/queues/counts/"]
    fill(desk, 3)
    with_3 = [queries(client, url) for url in urls]
    html = client.get("/staff/queues/open/").content.decode()
    arrivals = arrivals_url(html)
    after, after_id = first_row(html)
    fill(desk, 2)
    arrivals_3 = queries(client, f"{arrivals}&after={after}&after_id={after_id}")

    fill(desk, 27)
    with_30 = [queries(client, url) for url in urls]
    arrivals_30 = queries(client, f"{arrivals}&after={after}&after_id={after_id}")
    assert with_3 == with_30
    assert arrivals_3 == arrivals_30
    # The fragment and the arrivals are small: session, user, agent, memberships, teams, then
    # the saved queues and one statement for every count / one page of rows, plus one query per
    # relation the rows show (requester, priority, status, assignee, team, department, topic).
    assert with_30[-1] <= 7
    assert arrivals_30 <= 7 + 7  # + requesters, assignees and the five reference tables


def test_a_superscript_digit_in_a_queue_filter_is_not_a_server_error(client, desk):
    client.force_login(desk.john.user)
    assert client.get("/staff/queues/open/", {"user": "²"}).status_code in (200, 400)
    assert client.get("/staff/people/", {"org": "²"}).status_code == 200
