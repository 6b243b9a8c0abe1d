"""The benchmark's dataset generator keeps making a desk shaped like a real one, and the
benchmarked pages run the same number of queries on a small desk as on a million tickets.

The generator writes rows straight into the tables, so nothing else would notice if it
drifted from what the services write; these tests run it small (fast) on the test database.
"""

from __future__ import annotations

import io
import random
from collections import Counter as Tally

import pytest

from django.db import connection
from django.db.models import Count, Q
from django.test import Client

pytestmark = pytest.mark.django_db


def _generate(tickets: int, *, seed: int = 7, search: bool = False):
    from bench.generate import Generator, build_search_index

    # The fast path (drop and rebuild indexes, TRUNCATE + COPY FREEZE) is what a million-ticket
    # load takes on PostgreSQL: exercise it here too, schema check included.
    fast = connection.vendor == "postgresql"
    summary = Generator(tickets, seed=seed, fast=fast, out=lambda _line: None, bench_password="bench-secret").run()
    if search:
        build_search_index(stdout=io.StringIO())
    return summary


def test_generated_desk_has_the_people_departments_and_threads_of_a_real_one():
    from bench.generate import BENCH_AGENT_EMAIL, LONG_TICKET_ENTRIES, LONG_TICKET_SUBJECT
    from tessera.accounts.models import Agent, Department, Membership, User
    from tessera.tickets.content import from_text
    from tessera.tickets.models import Counter, Event, ThreadEntry, Ticket

    summary = _generate(200)

    assert Department.objects.count() == 10
    agents = Agent.objects.exclude(user__email=BENCH_AGENT_EMAIL)
    assert agents.count() == 50
    assert not Agent.objects.annotate(primaries=Count("memberships", filter=Q(memberships__is_primary=True))).exclude(
        primaries=1
    )
    assert set(Membership.objects.values_list("role__name", flat=True)) == {"Agent"}
    end_users = User.objects.filter(agent__isnull=True)
    assert end_users.count() == summary.users == 20
    assert end_users.filter(organization__isnull=False).exists()

    long_ticket = Ticket.objects.get(subject=LONG_TICKET_SUBJECT)
    assert long_ticket.entries.count() == LONG_TICKET_ENTRIES
    assert summary.long_ticket_number == long_ticket.number
    tickets = Ticket.objects.exclude(pk=long_ticket.pk)
    assert tickets.count() == 200
    per_ticket = ThreadEntry.objects.exclude(ticket=long_ticket).count() / 200
    assert 3.5 <= per_ticket <= 4.5

    states = Tally(tickets.values_list("state", flat=True))
    assert states.most_common(1)[0][0] == "closed"
    assert states["closed"] > 100 and states["open"] > 0
    urgencies = Tally(tickets.values_list("priority__urgency", flat=True))
    assert urgencies.most_common(1)[0][0] == 3  # Sev-C, the default
    assert urgencies[1] < 20  # few Sev-A

    # Every ticket starts as the services start one: a message from its user and a "created" event.
    first_entries = {}
    for entry in ThreadEntry.objects.order_by("created_at", "id"):
        first_entries.setdefault(entry.ticket_id, entry)
    assert all(e.kind == "message" and e.author_id == t.user_id for t in tickets for e in [first_entries[t.pk]])
    assert Event.objects.filter(kind="created").count() == 201
    for ticket in tickets.filter(state__in=["resolved", "closed"]):
        assert ticket.resolved_at is not None and ticket.updated_at >= ticket.created_at

    # The custom "Office" field is answered on about 60% of tickets, Berlin the most often,
    # through the same typed rows the services write (one item per answer).
    from tessera.customfields import selectors as field_selectors
    from tessera.customfields.models import FieldValue

    answers = FieldValue.objects.filter(field__key="office")
    assert summary.field_values == answers.count()
    assert 0.45 * 201 < answers.count() < 0.75 * 201
    assert answers.filter(item__isnull=True).count() == 0 and answers.exclude(text="").count() == 0
    offices = Tally(answers.values_list("item__label", flat=True))
    assert offices.most_common(1)[0][0] == "Berlin"
    answered = answers.first().ticket
    assert field_selectors.values_for(answered)["office"] == answers.first().item.label

    # Bodies are stored as from_text would store them.
    sample = random.Random(1).sample(list(ThreadEntry.objects.all()), 50)
    assert all(from_text(e.body_text)[0] == e.body_html for e in sample)

    bench = User.objects.get(email=BENCH_AGENT_EMAIL)
    assert bench.check_password("bench-secret")
    assert bench.agent.memberships.count() == 3
    assert (
        Counter.objects.get(name="ticket").value == summary.last_number == Ticket.objects.order_by("-number")[0].number
    )


def test_desk_keeps_working_after_the_load(desk):
    """Sequences and the ticket counter are past the loaded rows: the next ticket opens normally."""
    from tessera.tickets import services
    from tessera.tickets.models import Ticket

    summary = _generate(30)
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="After the load", message="Still works?", topic=desk.general
    )
    assert ticket.number == summary.last_number + 1
    assert Ticket.objects.filter(number__gt=summary.last_number).count() == 1


def test_generator_refuses_a_desk_with_tickets_unless_appending(ken_ticket):
    from bench.generate import refuse_unless_empty

    with pytest.raises(SystemExit, match="already has tickets"):
        refuse_unless_empty(force_append=False)
    refuse_unless_empty(force_append=True)


def test_generator_never_falls_back_to_the_default_database(monkeypatch):
    from bench import generate

    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(SystemExit, match="set DATABASE_URL"):
        generate.main(["--tickets", "10"])


def test_benchmarked_pages_run_as_many_queries_as_recorded_for_a_million_tickets(settings):
    """bench/query_counts.json is what bench.run finds at 1,000,000 tickets (it warns when not)."""
    from bench import querycounts
    from bench.generate import BENCH_AGENT_EMAIL
    from bench.pages import facts
    from tessera.accounts.models import User

    settings.MIDDLEWARE = ["bench.middleware.ServerTimingMiddleware", *settings.MIDDLEWARE]
    settings.ROOT_URLCONF = "bench.urls"
    _generate(1000, seed=42, search=True)  # as `make bench-data` makes it
    client = Client()
    client.force_login(User.objects.get(email=BENCH_AGENT_EMAIL))

    cached, recounted = querycounts.measure_both(
        querycounts.client_fetch(client), facts(), querycounts.client_fetch(Client())
    )

    assert querycounts.differences(cached, querycounts.expected()) == []
    assert querycounts.differences(recounted, querycounts.expected(counts_cache=False)) == []


def test_new_ticket_page_and_people_lookup_cost_the_same_on_a_desk_ten_times_bigger():
    """The "New ticket" form and its people lookup run a fixed number of queries: more people,
    organisations, agents, teams and topics add none."""
    from django.test.utils import CaptureQueriesContext

    from bench.generate import BENCH_AGENT_EMAIL
    from tessera.accounts.models import Agent, Membership, Organization, Team, User
    from tessera.tickets.models import HelpTopic

    _generate(200, seed=3)
    client = Client()
    client.force_login(User.objects.get(email=BENCH_AGENT_EMAIL))

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as page:
            assert client.get("/staff/tickets/new/").status_code == 200
        with CaptureQueriesContext(connection) as lookup:
            html = client.get("/staff/people/lookup/", {"q": "lo"}).content.decode()
        assert html.count('role="option"') == 10
        return len(page), len(lookup)

    orgs = Organization.objects.bulk_create(Organization(name=f"Lofty {n} Ltd") for n in range(40))
    User.objects.bulk_create(
        User(email=f"lois{n}@example.com", name=f"Lois Lane {n}", organization=orgs[n % 40]) for n in range(20)
    )
    queries()  # once first: the process memos (custom field forms, statuses) fill then
    small = queries()

    User.objects.bulk_create(
        User(email=f"lorna{n}@example.net", name=f"Lorna Doone {n}", organization=orgs[n % 40]) for n in range(400)
    )
    department = Membership.objects.filter(agent__user__email=BENCH_AGENT_EMAIL).first().department
    role = Membership.objects.filter(agent__user__email=BENCH_AGENT_EMAIL).first().role
    for n in range(20):
        agent = Agent.objects.create(user=User.objects.create_user(f"helper{n}@desk.example", name=f"Helper {n}"))
        Membership.objects.create(agent=agent, department=department, role=role, is_primary=True)
    Team.objects.bulk_create(Team(name=f"Team {n}") for n in range(10))
    HelpTopic.objects.bulk_create(HelpTopic(name=f"Topic {n}", department=department) for n in range(20))

    assert queries() == small


def test_task_pages_run_as_many_queries_for_many_tasks_as_for_few(desk, ken_ticket):
    """The ticket page (its task list), the task queue, My tasks and a task's page cost the same
    number of queries with 2 tasks as with 30, each with notes and history."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from tessera.tasks import services as task_services

    def add_tasks(count: int) -> int:
        number = 0
        for n in range(count):
            task = task_services.create_task(
                desk.john.user, ticket=ken_ticket, title=f"Task {n}", assignee=desk.john, team=desk.ops
            )
            task_services.add_task_note(desk.john.user, task, note=f"Note {n}")
            task_services.transfer_task(desk.john.user, task, department=desk.sysadmin if n % 2 else desk.billing)
            number = task.number
        return number

    client = Client()
    client.force_login(desk.john.user)

    def counts(task_number: int) -> dict[str, int]:
        pages = {
            "ticket": f"/staff/tickets/{ken_ticket.number}/",
            "queue": "/staff/tasks/",
            "mine": "/staff/tasks/mine/",
            "task": f"/staff/tasks/{task_number}/",
        }
        found = {}
        for name, url in pages.items():
            with CaptureQueriesContext(db) as queries:
                assert client.get(url).status_code == 200, url
            found[name] = len(queries)
        return found

    first = add_tasks(2)
    counts(first)  # once first: the process memos (custom field forms, statuses) fill then
    few = counts(first)
    many = counts(add_tasks(28))
    assert many == few


def test_directory_pages_run_as_many_queries_for_a_large_directory_as_for_a_small_one(desk):
    """The people list, the organisations list, a person's page and an organisation's page: the
    same statements with 1 or 31 people, organisations, tickets and notes each."""
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from tessera.accounts.models import DirectoryNote, Organization, OrganizationDomain, User
    from tessera.tickets import services

    acme = Organization.objects.create(name="Acme", account_manager=desk.john, share_tickets=True)
    desk.ken.organization = acme
    desk.ken.save()
    client = Client()
    client.force_login(desk.john.user)
    pages = [
        reverse("staff:people"),
        reverse("staff:people") + "?q=example",
        reverse("staff:organisations"),
        reverse("staff:person", args=[desk.ken.pk]),
        reverse("staff:organisation", args=[acme.pk]),
    ]

    def grow(n: int, start: int) -> None:
        for k in range(start, start + n):
            org = Organization.objects.create(name=f"Org {k}", account_manager=desk.jane)
            OrganizationDomain.objects.create(organization=org, domain=f"org{k}.example")
            OrganizationDomain.objects.create(organization=acme, domain=f"acme{k}.example")
            User.objects.create_user(f"member{k}@acme.example", name=f"Member {k}", organization=acme)
            User.objects.create_user(f"person{k}@org{k}.example", name=f"Person {k}", organization=org)
            services.open_ticket(desk.ken, requester=desk.ken, subject=f"Ticket {k}", message="x", topic=desk.general)
            DirectoryNote.objects.create(user=desk.ken, author=desk.john.user, body=f"Note {k}")
            DirectoryNote.objects.create(organization=acme, author=desk.jane.user, body=f"Note {k}")

    def counts() -> list[int]:
        found = []
        for url in pages:
            client.get(url)  # warm the per-process memos
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200, url
            found.append(len(queries))
        return found

    grow(1, 0)
    small = counts()
    grow(30, 1)
    assert counts() == small, small
