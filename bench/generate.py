"""Fill the database named by DATABASE_URL with a desk of N tickets for the benchmarks.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench python -m bench.generate --tickets 1000000

What it makes (deterministic for --seed): 10 departments with help topics, 50 agents (one
primary membership each with the Agent role, some with a second department) in 5 teams,
about N/10 end users, a quarter of them without an organisation, N tickets whose states,
priorities, departments and requesters are skewed the way a real desk's are (most tickets
closed, few Sev-A, some users who write a lot), about 4 thread entries per ticket (message,
response, note, with quoted replies), timeline events (created, assigned, status, notes,
priority, transfers), due dates on some active tickets (some overdue), a ticket with exactly
200 entries for the ticket-page benchmark, and bench-agent@example.com (password from
BENCH_PASSWORD) in three departments for the HTTP benchmarks.

Why it is built this way: going through the services would take days for a million tickets,
so rows go straight into the tables — PostgreSQL by COPY, SQLite by executemany in large
transactions — in the shapes the services write them (tests/test_bench_smoke.py checks the
shapes). On PostgreSQL, for big loads, the secondary indexes, unique and foreign-key
constraints of the loaded tables are dropped first and rebuilt from their own definitions
afterwards (one sort per index instead of millions of random inserts; one anti-join per
foreign key instead of a trigger per row), and a fresh desk's tables are truncated in the
same transaction so COPY can write frozen rows that need no vacuum later. The catalogue is
compared before and after, so the schema is left exactly as the migrations made it.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.text import RARE_EVERY

LONG_TICKET_SUBJECT = "Bench: a long conversation with 200 entries"
LONG_TICKET_ENTRIES = 200
BENCH_AGENT_EMAIL = "bench-agent@example.com"
BENCH_AGENT_NAME = "Bianca Bench"
DEFAULT_BENCH_PASSWORD = "bench-password"
AGENTS = 50
BATCH_TICKETS = 10_000
# Below this many tickets, dropping and rebuilding indexes costs more than it saves.
FAST_PATH_MIN_TICKETS = 20_000
YEAR_US = 365 * 86400 * 1_000_000
HOUR_US = 3600 * 1_000_000
DAY_US = 24 * HOUR_US

# State mix by age: (share of tickets, newest first) → the shares of
# (open, pending, resolved, closed, archived). Overall: ~10% open, 8% pending, 7% resolved,
# 70% closed, 5% archived, with the active ones mostly recent, as on a real desk.
STATE_BANDS = [
    (0.05, ("open", 0.40), ("pending", 0.25), ("resolved", 0.20), ("closed", 0.15), ("archived", 0.0)),
    (0.20, ("open", 0.20), ("pending", 0.18), ("resolved", 0.18), ("closed", 0.44), ("archived", 0.0)),
    (0.90, ("open", 0.0714), ("pending", 0.0579), ("resolved", 0.0471), ("closed", 0.8236), ("archived", 0.0)),
    (1.00, ("open", 0.0), ("pending", 0.0), ("resolved", 0.0), ("closed", 0.5), ("archived", 0.5)),
]
PRIORITY_SHARES = {1: 1, 2: 9, 3: 70, 4: 20}  # urgency → percent: few Sev-A
SOURCE_SHARES = {"web": 45, "email": 45, "phone": 5, "api": 3, "staff": 2}
# entries per ticket → percent; mean 4.0
ENTRY_COUNT_SHARES = {1: 8, 2: 14, 3: 20, 4: 22, 5: 15, 6: 10, 7: 6, 8: 3, 9: 2}
# A custom "Office" list field asked on every ticket (tessera/customfields), answered on
# OFFICE_ANSWERED_PERCENT of the tickets, its offices skewed as a real company's are (percent of
# the answers; the queue bench filters on the biggest and on a small one).
OFFICE_FIELD_KEY = "office"
OFFICE_SHARES = {
    "Berlin": 30,
    "Lisbon": 20,
    "London": 12,
    "Madrid": 10,
    "Paris": 8,
    "Warsaw": 6,
    "Dublin": 5,
    "Vienna": 3,
    "Prague": 2,
    "Oslo": 2,
    "Tallinn": 1,
    "Riga": 1,
}
OFFICE_ANSWERED_PERCENT = 60


def _table(shares: dict) -> list:
    """A 100-slot lookup table: table[int(random() * 100)] draws with the given percentages."""
    slots = [key for key, percent in shares.items() for _ in range(percent)]
    assert len(slots) == 100, shares
    return slots


@dataclass
class Summary:
    tickets: int = 0
    entries: int = 0
    events: int = 0
    users: int = 0
    organizations: int = 0
    long_ticket_number: int = 0
    field_values: int = 0
    first_number: int = 0
    last_number: int = 0
    fast_path: bool = False
    frozen: bool = False
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Desk:
    """The small reference data the tickets point at (ids, names), made through the ORM."""

    departments: list[tuple[int, str, int]]  # id, name, share
    topics: dict[int, list[int]]  # department id → topic ids
    priorities: dict[int, tuple[int, str]]  # urgency → (id, name)
    statuses: dict[str, tuple[int, str]]  # state → (id, name)
    agents: list[tuple[int, int, str, str]]  # agent id, user id, name, signature
    pools: dict[int, list[int]]  # department id → indexes into agents of its members
    dept_teams: dict[int, list[tuple[int, str]]]  # department id → teams that take its tickets
    bench_agent: int  # index into agents
    bench_departments: set[int]


class Sink:
    """Where rows go: one implementation per database."""

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple], *, freeze: bool = False) -> None:
        raise NotImplementedError


class PostgresSink(Sink):
    def __init__(self, connection) -> None:
        self.connection = connection

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple], *, freeze: bool = False) -> None:
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
            sql.Identifier(table),
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            sql.SQL(" WITH (FREEZE)") if freeze else sql.SQL(""),
        )
        with self.connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)


class SqliteSink(Sink):
    def __init__(self, connection) -> None:
        self.connection = connection

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple], *, freeze: bool = False) -> None:
        quoted = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        self.connection.ensure_connection()
        self.connection.connection.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', rows)  # noqa: S608  table and column names come from the models; rows are parameters


class Columns:
    """The columns a generator writes for one model, plus constant values for any column it
    does not know (added by a later migration), so the generator does not silently rot."""

    def __init__(self, model, written: Sequence[str], connection) -> None:
        from django.db.models.fields import NOT_PROVIDED

        concrete = {f.column: f for f in model._meta.concrete_fields}
        unknown = [c for c in written if c not in concrete]
        if unknown:
            raise RuntimeError(f"{model._meta.db_table} has no column(s) {unknown}; update bench/generate.py")
        self.table = model._meta.db_table
        extra_columns, extra_values = [], []
        for column, f in concrete.items():
            if column in written or getattr(f, "generated", False) or f.db_default is not NOT_PROVIDED:
                continue
            if f.has_default():
                value = f.get_db_prep_save(f.get_default(), connection)
            elif f.null:
                value = None
            else:
                raise RuntimeError(f"{self.table}.{column} needs a value; update bench/generate.py")
            extra_columns.append(column)
            extra_values.append(value)
        self.names = [*written, *extra_columns]
        self.extra = tuple(extra_values)


def _datetime_formatter(suffix: str) -> Callable[[int], str]:
    """Epoch microseconds → 'YYYY-MM-DD HH:MM:SS.ffffff' (+ suffix), about 1 µs each.

    Django stores SQLite datetimes as naive UTC text in this form; PostgreSQL gets "+00"."""
    days: dict[int, str] = {}
    epoch = datetime(1970, 1, 1, tzinfo=UTC)

    def fmt(us: int) -> str:
        seconds, micro = divmod(us, 1_000_000)
        day, rest = divmod(seconds, 86400)
        prefix = days.get(day)
        if prefix is None:
            prefix = days[day] = (epoch + timedelta(days=day)).strftime("%Y-%m-%d ")
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{prefix}{hours:02d}:{minutes:02d}:{secs:02d}.{micro:06d}{suffix}"

    return fmt


def _out(message: str) -> None:
    print(message, flush=True)


class Generator:
    _next_entry_id: int  # ids of the next batch; set by _batches
    _next_event_id: int

    def __init__(
        self,
        tickets: int,
        *,
        seed: int = 42,
        now: datetime | None = None,
        fast: bool | None = None,
        out: Callable[[str], None] = _out,
        bench_password: str | None = None,
    ) -> None:
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor
        self.n = tickets
        self.seed = seed
        self.rng = random.Random(seed)
        anchor = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.now_us = int(anchor.timestamp() * 1_000_000)
        self.start_us = self.now_us - 2 * YEAR_US
        self.out = out
        self.fast = (self.vendor == "postgresql" and tickets >= FAST_PATH_MIN_TICKETS) if fast is None else fast
        if self.fast and self.vendor != "postgresql":
            raise ValueError("The fast path (dropping and rebuilding indexes) is for PostgreSQL only.")
        self.password = bench_password or os.environ.get("BENCH_PASSWORD") or DEFAULT_BENCH_PASSWORD
        self.fmt = _datetime_formatter("+00" if self.vendor == "postgresql" else "")
        self.sink: Sink = PostgresSink(connection) if self.vendor == "postgresql" else SqliteSink(connection)
        self.summary = Summary(fast_path=self.fast)

    # ------------------------------------------------------------------ the whole run

    def run(self) -> Summary:
        from django.db import transaction

        from bench.text import Writer

        t0 = time.monotonic()
        self.writer = Writer(random.Random(self.seed + 1))
        with transaction.atomic():
            desk = self._desk()
        elapsed = time.monotonic() - t0
        self.out(f"reference data: {len(desk.departments)} departments, {len(desk.agents)} agents, {elapsed:.1f} s")
        self.desk = desk
        self._plan_ids()
        t1 = time.monotonic()
        if self.vendor == "postgresql":
            self._load_postgres()
        else:
            self._load_sqlite()
        self.summary.timings["load"] = time.monotonic() - t1
        t3 = time.monotonic()
        self.summary.field_values = self._office_answers()
        self.summary.timings["custom_fields"] = time.monotonic() - t3
        self.out(f"custom field: {self.summary.field_values:,} office answers, {time.monotonic() - t3:.1f} s")
        t2 = time.monotonic()
        self._finish()
        self.summary.timings["finish"] = time.monotonic() - t2
        self.summary.timings["total"] = time.monotonic() - t0
        return self.summary

    def _plan_ids(self) -> None:
        from django.db.models import Max

        from tessera.accounts.models import Organization, OrganizationDomain, User
        from tessera.tickets.models import Counter, Event, ThreadEntry, Ticket
        from tessera.tickets.services import FIRST_TICKET_NUMBER

        def next_id(model) -> int:
            return (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1

        self.users = max(20, self.n // 10)
        self.orgs = max(5, self.n // 500)
        counter = Counter.objects.filter(name="ticket").values_list("value", flat=True).first() or 0
        highest = Ticket.objects.aggregate(m=Max("number"))["m"] or 0
        self.first_number = max(counter, highest, FIRST_TICKET_NUMBER - 1) + 1
        self.ticket_id0 = next_id(Ticket)
        self.entry_id0 = next_id(ThreadEntry)
        self.event_id0 = next_id(Event)
        self.user_id0 = next_id(User)
        self.org_id0 = next_id(Organization)
        self.org_domain_id0 = next_id(OrganizationDomain)
        self.columns = {
            "user": Columns(
                User,
                [
                    "id",
                    "password",
                    "last_login",
                    "is_superuser",
                    "email",
                    "name",
                    "organization_id",
                    "time_zone",
                    "is_staff",
                    "is_active",
                    "date_joined",
                ],
                self.connection,
            ),
            "org": Columns(Organization, ["id", "name", "created_at"], self.connection),
            "org_domain": Columns(OrganizationDomain, ["id", "organization_id", "domain"], self.connection),
            "ticket": Columns(
                Ticket,
                [
                    "id",
                    "number",
                    "subject",
                    "user_id",
                    "organization_id",
                    "department_id",
                    "topic_id",
                    "priority_id",
                    "status_id",
                    "state",
                    "assignee_id",
                    "team_id",
                    "source",
                    "is_answered",
                    "version",
                    "created_at",
                    "updated_at",
                    "first_response_at",
                    "last_message_at",
                    "last_response_at",
                    "resolved_at",
                    "closed_at",
                    "due_at",
                    "merged_into_id",
                ],
                self.connection,
            ),
            "entry": Columns(
                ThreadEntry,
                [
                    "id",
                    "ticket_id",
                    "kind",
                    "author_id",
                    "author_name",
                    "body_html",
                    "body_text",
                    "source",
                    "created_at",
                ],
                self.connection,
            ),
            "event": Columns(
                Event,
                ["id", "ticket_id", "kind", "actor_id", "actor_name", "before", "after", "data", "created_at"],
                self.connection,
            ),
        }

    # ------------------------------------------------------------------ reference data (ORM)

    def _desk(self) -> Desk:
        from bench import text
        from tessera.accounts.models import Agent, Department, Membership, Role, Team, User
        from tessera.tickets.defaults import ensure_defaults
        from tessera.tickets.models import HelpTopic, Priority, Status

        ensure_defaults(Priority, Status, Role)
        role = Role.objects.get(name="Agent")
        departments, topics = [], {}
        for name, share, topic_names in text.DEPARTMENTS:
            slug = name.lower().replace(" ", "-")
            dept, _created = Department.objects.get_or_create(name=name, defaults={"email": f"{slug}@desk.example.com"})
            departments.append((dept.pk, name, share))
            topics[dept.pk] = [
                HelpTopic.objects.get_or_create(name=t, defaults={"department": dept})[0].pk for t in topic_names
            ]
        dept_ids = [d[0] for d in departments]
        by_name = {name: pk for pk, name, _s in departments}

        agents: list[Agent] = []
        for i in range(AGENTS):
            first, last = (
                text.FIRST_NAMES[(i * 7) % len(text.FIRST_NAMES)],
                text.LAST_NAMES[(i * 11) % len(text.LAST_NAMES)],
            )
            user, created = User.objects.get_or_create(
                email=f"agent{i + 1:02d}@desk.example.com", defaults={"name": f"{first} {last}"}
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            primary = departments[i % len(departments)]
            agent, _created = Agent.objects.get_or_create(
                user=user, defaults={"signature": f"{first} {last} — {primary[1]}"}
            )
            Membership.objects.get_or_create(
                agent=agent, department_id=primary[0], defaults={"role": role, "is_primary": True}
            )
            if i % 5 == 4:
                Membership.objects.get_or_create(
                    agent=agent, department_id=dept_ids[(i + 3) % len(dept_ids)], defaults={"role": role}
                )
            agents.append(agent)

        bench_user = User.objects.filter(email=BENCH_AGENT_EMAIL).first()
        if bench_user is None:
            bench_user = User.objects.create_user(BENCH_AGENT_EMAIL, self.password, name=BENCH_AGENT_NAME)
        bench, _created = Agent.objects.get_or_create(
            user=bench_user, defaults={"signature": f"{BENCH_AGENT_NAME} — Support"}
        )
        bench_departments = {by_name[name] for name in text.BENCH_DEPARTMENTS}
        for j, name in enumerate(text.BENCH_DEPARTMENTS):
            Membership.objects.get_or_create(
                agent=bench, department_id=by_name[name], defaults={"role": role, "is_primary": j == 0}
            )

        dept_teams: dict[int, list[tuple[int, str]]] = {pk: [] for pk in dept_ids}
        for name, team_depts in text.TEAMS:
            team, _created = Team.objects.get_or_create(name=name)
            members = [
                a for a in agents if a.memberships.filter(department_id__in=[by_name[d] for d in team_depts]).exists()
            ]
            members = members[:4]
            if name == "VIP customers":
                members.append(bench)
            team.members.add(*members)
            if team.lead_id is None and members:
                team.lead = members[0]
                team.save(update_fields=["lead"])
            for d in team_depts:
                dept_teams[by_name[d]].append((team.pk, name))

        all_agents = [*agents, bench]
        index = {a.pk: i for i, a in enumerate(all_agents)}
        pools: dict[int, list[int]] = {pk: [] for pk in dept_ids}
        for m in Membership.objects.filter(agent__in=agents).values("agent_id", "department_id"):
            pools[m["department_id"]].append(index[m["agent_id"]])
        return Desk(
            departments=departments,
            topics=topics,
            priorities={p.urgency: (p.pk, p.name) for p in Priority.objects.all()},
            statuses={s.state: (s.pk, s.name) for s in Status.objects.filter(is_default=True).order_by("-order")},
            agents=[(a.pk, a.user_id, a.user.name, a.signature) for a in all_agents],
            pools={pk: sorted(v) for pk, v in pools.items()},
            dept_teams=dept_teams,
            bench_agent=len(all_agents) - 1,
            bench_departments=bench_departments,
        )

    # ------------------------------------------------------------------ organisations and end users

    def _org_rows(self) -> list[tuple]:
        from bench import text

        rows, fmt, extra = [], self.fmt, self.columns["org"].extra
        combos = len(text.ORG_FIRST) * len(text.ORG_SECOND)
        self.org_domains = []
        for k in range(self.orgs):
            a, b = (
                text.ORG_FIRST[k % len(text.ORG_FIRST)],
                text.ORG_SECOND[(k // len(text.ORG_FIRST)) % len(text.ORG_SECOND)],
            )
            round_ = k // combos
            oid = self.org_id0 + k
            name = f"{a} {b}" + (f" {round_ + 1}" if round_ else "") + (f" ({oid})" if self.org_id0 > 1 else "")
            domain = f"{a}-{b}{round_ + 1 if round_ else ''}{oid if self.org_id0 > 1 else ''}.example".lower()
            self.org_domains.append(domain)
            rows.append((oid, name, fmt(self.start_us - 30 * DAY_US), *extra))
        return rows

    def _org_domain_rows(self) -> list[tuple]:
        extra = self.columns["org_domain"].extra
        return [
            (self.org_domain_id0 + k, self.org_id0 + k, domain, *extra) for k, domain in enumerate(self.org_domains)
        ]

    def _user_rows(self) -> list[tuple]:
        from bench import text

        rng = random.Random(self.seed + 3)
        rnd = rng.random
        rows, fmt, extra = [], self.fmt, self.columns["user"].extra
        firsts, lasts = text.FIRST_NAMES, text.LAST_NAMES
        self.user_first = []
        self.user_name = []
        self.user_org = []
        for k in range(self.users):
            uid = self.user_id0 + k
            first, last = firsts[int(rnd() * len(firsts))], lasts[int(rnd() * len(lasts))]
            org = int(rnd() * self.orgs) if rnd() < 0.75 else None
            domain = self.org_domains[org] if org is not None else "mail.example"
            org_id = self.org_id0 + org if org is not None else None
            name = f"{first} {last}"
            self.user_first.append(first)
            self.user_name.append(name)
            self.user_org.append(org_id)
            joined = self.start_us - int(rnd() * YEAR_US)
            rows.append(
                (
                    uid,
                    f"!{rng.getrandbits(160):040x}",  # unusable, like set_unusable_password()
                    None,
                    False,
                    f"{first}.{last}.{uid}@{domain}".lower(),
                    name,
                    org_id,
                    "",
                    False,
                    True,
                    fmt(joined),
                    *extra,
                )
            )
        return rows

    # ------------------------------------------------------------------ tickets, entries, events

    def _tickets(self, lo: int, hi: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """Rows for tickets lo..hi-1 (0-based positions in creation order)."""
        d = self.desk
        rng = self.rng
        rnd = rng.random
        log = math.log
        fmt = self.fmt
        writer = self.writer
        n, now, start = self.n, self.now_us, self.start_us
        span = now - start - DAY_US  # the last ticket is at least a day old... or recent enough
        dept_table = [dept for dept in d.departments for _ in range(dept[2])]
        support = next((pk, name) for pk, name, _s in d.departments if name == "Support")
        assert len(dept_table) == 100
        prio_table = [d.priorities[u] for u in _table(PRIORITY_SHARES)]
        default_prio = d.priorities[3]
        source_table = _table(SOURCE_SHARES)
        count_table = _table(ENTRY_COUNT_SHARES)
        statuses = d.statuses
        agents = d.agents
        users, user_first, user_name, user_org = self.users, self.user_first, self.user_name, self.user_org
        user_id0 = self.user_id0
        p_bench = max(0.0004, 30 / max(n, 1))
        ticket_extra = self.columns["ticket"].extra
        entry_extra = self.columns["entry"].extra
        event_extra = self.columns["event"].extra
        tickets, entries, events = [], [], []
        entry_id, event_id = self._next_entry_id, self._next_event_id

        for i in range(lo, hi):
            tid = self.ticket_id0 + i
            number = self.first_number + i
            created = start + int((i + rnd()) * span / n)
            age = 1.0 - (i + 0.5) / n
            band = next(b for b in STATE_BANDS if age <= b[0])
            x, state = rnd(), "closed"
            for name, share in band[1:]:
                if x < share:
                    state = name
                    break
                x -= share
            dept_id, dept_name, _share = dept_table[int(rnd() * 100)]
            # The rare search word goes into one ticket in RARE_EVERY, always in Support, so the
            # rare search finds something for the bench agent at any size (same queries).
            rare = i % RARE_EVERY == 7
            if rare:
                dept_id, dept_name = support
            topic_ids = d.topics[dept_id]
            topic = topic_ids[int(rnd() * len(topic_ids))] if rnd() < 0.8 else None
            prio_id, prio_name = prio_table[int(rnd() * 100)]
            u = int(users * rnd() ** 2)  # some users write far more than others
            uid, first = user_id0 + u, user_first[u]
            source = source_table[int(rnd() * 100)]
            active = state in ("open", "pending")
            assignee = None
            if rnd() < (0.65 if active else 0.9):
                if dept_id in d.bench_departments and rnd() < p_bench:
                    assignee = d.bench_agent
                else:
                    pool = d.pools[dept_id]
                    assignee = pool[int(rnd() * len(pool))]
            team = None
            if rnd() < 0.08 and d.dept_teams[dept_id]:
                teams = d.dept_teams[dept_id]
                team = teams[int(rnd() * len(teams))]
            k = count_table[int(rnd() * 100)]
            e_rows, ev_rows, last_public, times = self._conversation(
                tid, k, created, first, user_name[u], uid, source, assignee, dept_id, entry_id, event_id, rare
            )
            entry_id += len(e_rows)
            entries.extend(e_rows)
            t_last = times["last"]
            ev = ev_rows
            if assignee is not None:
                a_id, a_user, a_name, _sig = agents[assignee]
                when = min(created + int(-log(1.0 - rnd()) * 2 * HOUR_US), now - 1)
                ev.append(
                    (
                        event_id + len(ev),
                        tid,
                        "assigned",
                        a_user,
                        a_name,
                        "",
                        a_name,
                        f'{{"agent_id": {a_id}}}',
                        fmt(when),
                    )
                )
            if team is not None:
                when = min(created + int(-log(1.0 - rnd()) * 3 * HOUR_US), now - 1)
                ev.append(
                    (
                        event_id + len(ev),
                        tid,
                        "assigned",
                        None,
                        "System",
                        "",
                        team[1],
                        f'{{"team_id": {team[0]}}}',
                        fmt(when),
                    )
                )
            if prio_id != default_prio[0] and rnd() < 0.3:
                when = min(created + int(-log(1.0 - rnd()) * 6 * HOUR_US), now - 1)
                actor = agents[assignee] if assignee is not None else agents[d.pools[dept_id][0]]
                ev.append(
                    (
                        event_id + len(ev),
                        tid,
                        "priority",
                        actor[1],
                        actor[2],
                        default_prio[1],
                        prio_name,
                        f'{{"priority_id": {prio_id}}}',
                        fmt(when),
                    )
                )
            resolved_at: int | None = None
            closed_at: int | None = None
            updated = t_last
            status_id, status_name = statuses[state]
            if state == "pending":
                when = times["last_response"] or t_last
                ev.append(
                    (
                        event_id + len(ev),
                        tid,
                        "status",
                        None,
                        "System",
                        statuses["open"][1],
                        status_name,
                        '{"state": "pending"}',
                        fmt(when),
                    )
                )
            elif state in ("resolved", "closed", "archived"):
                resolved_at = min(t_last + int(-log(1.0 - rnd()) * 12 * HOUR_US), now - 1)
                closer = agents[assignee] if assignee is not None else agents[d.pools[dept_id][0]]
                final = "resolved" if state == "resolved" else "closed"
                ev.append(
                    (
                        event_id + len(ev),
                        tid,
                        "status",
                        closer[1],
                        closer[2],
                        statuses["open"][1],
                        statuses[final][1],
                        f'{{"state": "{final}"}}',
                        fmt(resolved_at),
                    )
                )
                updated = resolved_at
                if state in ("closed", "archived"):
                    closed_at = resolved_at
                if state == "archived" and closed_at is not None:
                    updated = min(closed_at + 90 * DAY_US, now - 1)
                    ev.append(
                        (
                            event_id + len(ev),
                            tid,
                            "status",
                            None,
                            "System",
                            statuses["closed"][1],
                            status_name,
                            '{"state": "archived"}',
                            fmt(updated),
                        )
                    )
            if rnd() < 0.03:  # arrived in the wrong department first
                other = dept_table[int(rnd() * 100)]
                when = min(created + int(-log(1.0 - rnd()) * HOUR_US), now - 1)
                actor = agents[d.pools[other[0]][0]]
                ev.append(
                    (
                        event_id + len(ev),
                        tid,
                        "transferred",
                        actor[1],
                        actor[2],
                        other[1],
                        dept_name,
                        f'{{"department_id": {dept_id}}}',
                        fmt(when),
                    )
                )
            event_id += len(ev)
            events.extend([row + event_extra for row in ev] if event_extra else ev)
            due = None
            if active and rnd() < 0.5:
                # Due within a week either way: some overdue, some not yet.
                due = max(created + HOUR_US, now + int((rnd() - 0.6) * 14 * DAY_US))
            tickets.append(
                (
                    tid,
                    number,
                    writer.subject(),
                    uid,
                    user_org[u],
                    dept_id,
                    topic,
                    prio_id,
                    status_id,
                    state,
                    agents[assignee][0] if assignee is not None else None,
                    team[0] if team is not None else None,
                    source,
                    last_public == "response",
                    len(e_rows) + len(ev),  # one bump per change, as the services do
                    fmt(created),
                    fmt(updated),
                    fmt(times["first_response"]) if times["first_response"] else None,
                    fmt(times["last_message"]) if times["last_message"] else None,
                    fmt(times["last_response"]) if times["last_response"] else None,
                    fmt(resolved_at) if resolved_at else None,
                    fmt(closed_at) if closed_at else None,
                    fmt(due) if due else None,
                    None,
                    *ticket_extra,
                )
            )
        if entry_extra:
            entries = [row + entry_extra for row in entries]
        self._next_entry_id, self._next_event_id = entry_id, event_id
        return tickets, entries, events

    def _conversation(
        self,
        tid: int,
        k: int,
        created: int,
        first: str,
        user_name: str,
        uid: int,
        source: str,
        assignee: int | None,
        dept_id: int,
        entry_id: int,
        event_id: int,
        rare: bool,
        *,
        span_hours: float = 10.0,
    ) -> tuple[list[tuple], list[tuple], str, dict]:
        """k thread entries (first a message) and their events: created, and one per note."""
        rnd, log, fmt, writer, now = self.rng.random, math.log, self.fmt, self.writer, self.now_us
        d = self.desk
        if assignee is not None:
            _a, a_user, a_name, a_sig = d.agents[assignee]
        else:
            pool = d.pools[dept_id]
            _a, a_user, a_name, a_sig = d.agents[pool[int(rnd() * len(pool))]]
        entries: list[tuple] = []
        events: list[tuple] = []
        t = created
        last_public = "message"
        quote_from: tuple[str, list[str]] | None = None
        first_response = last_response = None
        last_message = created
        for j in range(k):
            if j:
                gap = int(-log(1.0 - rnd()) * span_hours * HOUR_US)
                t = t + gap if t + gap < now else t + int((now - t) * rnd())
            if j == 0:
                kind = "message"
            elif rnd() < 0.15:
                kind = "note"
            else:
                kind = "response" if last_public == "message" else "message"
            quote = quote_from if (quote_from and kind != "note" and rnd() < 0.3) else None
            when = fmt(t)
            if kind == "message":
                body_text, body_html, quotable = writer.message(first, quote=quote, rare=rare and j == 0)
                entries.append(
                    (
                        entry_id + j,
                        tid,
                        "message",
                        uid,
                        user_name,
                        body_html,
                        body_text,
                        source if j == 0 else "email",
                        when,
                    )
                )
                quote_from = (f"On {_date_words(t)}, {user_name} wrote:", quotable)
                last_message = t
            elif kind == "response":
                body_text, body_html, quotable = writer.response(first, a_sig or a_name, quote=quote)
                entries.append((entry_id + j, tid, "response", a_user, a_name, body_html, body_text, "staff", when))
                quote_from = (f"On {_date_words(t)}, {a_name} wrote:", quotable)
                first_response = first_response or t
                last_response = t
            else:
                body_text, body_html = writer.note()
                entries.append((entry_id + j, tid, "note", a_user, a_name, body_html, body_text, "staff", when))
                events.append(
                    (
                        event_id + len(events) + 1,
                        tid,
                        "note",
                        a_user,
                        a_name,
                        "",
                        "",
                        f'{{"entry_id": {entry_id + j}}}',
                        when,
                    )
                )
            if kind != "note":
                last_public = kind
        dept_name = next(name for pk, name, _s in d.departments if pk == dept_id)
        created_event = (
            event_id,
            tid,
            "created",
            uid,
            user_name,
            "",
            dept_name,
            f'{{"source": "{source}"}}',
            fmt(created),
        )
        events.insert(0, created_event)
        times = {
            "last": t,
            "first_response": first_response,
            "last_response": last_response,
            "last_message": last_message,
        }
        return entries, events, last_public, times

    # ------------------------------------------------------------------ loading

    def _progress(self) -> Callable[[int], None]:
        started = time.monotonic()
        state = {"shown": started, "pct": -1}

        def show(done: int) -> None:
            elapsed = time.monotonic() - started
            pct = done * 100 // max(self.n, 1)
            if done == self.n or elapsed - (state["shown"] - started) >= 10 or pct >= state["pct"] + 10:
                state["shown"], state["pct"] = time.monotonic(), pct
                self.out(f"tickets: {done:,} / {self.n:,} ({pct}%), {elapsed:.0f} s")

        return show

    def _batches(self, write: Callable[[list[tuple], list[tuple], list[tuple]], None]) -> None:
        self._next_entry_id, self._next_event_id = self.entry_id0, self.event_id0
        show = self._progress()
        for lo in range(0, self.n, BATCH_TICKETS):
            hi = min(self.n, lo + BATCH_TICKETS)
            tickets, entries, events = self._tickets(lo, hi)
            write(tickets, entries, events)
            self.summary.entries += len(entries)
            self.summary.events += len(events)
            self.summary.tickets += len(tickets)
            show(hi)
        tickets, entries, events = self._long_ticket()
        write(tickets, entries, events)
        self.summary.entries += len(entries)
        self.summary.events += len(events)
        self.summary.tickets += len(tickets)

    def _long_ticket(self) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """One open ticket in Support with exactly 200 entries over the last 60 days."""
        d = self.desk
        i = self.n
        tid, number = self.ticket_id0 + i, self.first_number + i
        created = self.now_us - 60 * DAY_US
        support = next(pk for pk, name, _s in d.departments if name == "Support")
        u = 0
        e_rows, ev_rows, last_public, times = self._conversation(
            tid,
            LONG_TICKET_ENTRIES,
            created,
            self.user_first[u],
            self.user_name[u],
            self.user_id0 + u,
            "email",
            d.bench_agent,
            support,
            self._next_entry_id,
            self._next_event_id,
            False,
            span_hours=60 * 24 / LONG_TICKET_ENTRIES / 1.2,
        )
        _a, a_user, a_name, _sig = d.agents[d.bench_agent]
        ev_rows.append(
            (
                self._next_event_id + len(ev_rows),
                tid,
                "assigned",
                a_user,
                a_name,
                "",
                a_name,
                f'{{"agent_id": {d.agents[d.bench_agent][0]}}}',
                self.fmt(created + HOUR_US),
            )
        )
        self._next_entry_id += len(e_rows)
        self._next_event_id += len(ev_rows)
        status_id, _name = d.statuses["open"]
        prio_id = d.priorities[2][0]
        fmt = self.fmt
        ticket = (
            tid,
            number,
            LONG_TICKET_SUBJECT,
            self.user_id0 + u,
            self.user_org[u],
            support,
            d.topics[support][0],
            prio_id,
            status_id,
            "open",
            d.agents[d.bench_agent][0],
            None,
            "email",
            last_public == "response",
            len(e_rows) + len(ev_rows),
            fmt(created),
            fmt(times["last"]),
            fmt(times["first_response"]) if times["first_response"] else None,
            fmt(times["last_message"]),
            fmt(times["last_response"]) if times["last_response"] else None,
            None,
            None,
            fmt(self.now_us + DAY_US),
            None,
            *self.columns["ticket"].extra,
        )
        self.summary.long_ticket_number = number
        extra_e, extra_ev = self.columns["entry"].extra, self.columns["event"].extra
        return [ticket], [r + extra_e for r in e_rows], [r + extra_ev for r in ev_rows]

    def _write_people(self, freeze: bool = False) -> None:
        t = time.monotonic()
        orgs = self._org_rows()
        self.sink.write(self.columns["org"].table, self.columns["org"].names, orgs)
        self.sink.write(self.columns["org_domain"].table, self.columns["org_domain"].names, self._org_domain_rows())
        users = self._user_rows()
        self.sink.write(self.columns["user"].table, self.columns["user"].names, users)
        self.summary.organizations, self.summary.users = len(orgs), len(users)
        self.summary.timings["people"] = time.monotonic() - t
        self.out(f"people: {len(users):,} end users in {len(orgs):,} organisations, {time.monotonic() - t:.1f} s")

    def _load_sqlite(self) -> None:
        from django.db import transaction

        relax = not self.connection.in_atomic_block  # (the pragma cannot change inside a transaction)
        if relax:
            with self.connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous = OFF")
        with transaction.atomic():
            self._write_people()
        c = self.columns

        def write(tickets, entries, events) -> None:
            with transaction.atomic():
                self.sink.write(c["ticket"].table, c["ticket"].names, tickets)
                self.sink.write(c["entry"].table, c["entry"].names, entries)
                self.sink.write(c["event"].table, c["event"].names, events)

        self._batches(write)
        if relax:
            with self.connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous = NORMAL")

    def _load_postgres(self) -> None:
        from django.db import transaction

        from bench import pgschema

        c = self.columns
        bulk_tables = [c["user"].table, c["ticket"].table, c["entry"].table, c["event"].table]
        with self.connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '1GB'")
            cursor.execute("SET max_parallel_maintenance_workers = 1")
        with transaction.atomic():
            freeze = False
            if self.fast:
                with self.connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # flush checks queued by the ORM
                    before = pgschema.snapshot(cursor, bulk_tables)
                    freeze = pgschema.truncate_if_empty(cursor, [c["ticket"].table, c["entry"].table, c["event"].table])
                    t = time.monotonic()
                    dropped = pgschema.drop_secondary(cursor, bulk_tables)
                    self.out(
                        f"dropped {len(dropped)} indexes and constraints for the load, {time.monotonic() - t:.1f} s"
                    )
            self.summary.frozen = freeze
            self._write_people()

            def write(tickets, entries, events) -> None:
                self.sink.write(c["ticket"].table, c["ticket"].names, tickets, freeze=freeze)
                self.sink.write(c["entry"].table, c["entry"].names, entries, freeze=freeze)
                self.sink.write(c["event"].table, c["event"].names, events, freeze=freeze)

            self._batches(write)
            if self.fast:
                t = time.monotonic()
                with self.connection.cursor() as cursor:
                    pgschema.recreate(cursor, dropped, self.out)
                    after = pgschema.snapshot(cursor, bulk_tables)
                if after != before:
                    missing, added = sorted(before - after), sorted(after - before)
                    raise RuntimeError(f"schema changed by the load: missing {missing}, added {added}")
                self.summary.timings["indexes"] = time.monotonic() - t
                self.out(f"indexes and constraints rebuilt and checked, {time.monotonic() - t:.1f} s")

    def _office_answers(self) -> int:
        """The "Office" field (a list, on a form asked for every ticket) and its answers on the
        tickets just loaded: one INSERT … SELECT, the office drawn from the ticket id
        (deterministic, skewed by OFFICE_SHARES). Returns the number of answers written."""
        from django.db import transaction

        from tessera.customfields.models import ChoiceItem, ChoiceList, Field, FieldType, FieldValue, Form

        with transaction.atomic():
            offices, _created = ChoiceList.objects.get_or_create(name="Offices")
            items = []
            for order, label in enumerate(OFFICE_SHARES, start=1):
                items.append(
                    ChoiceItem.objects.get_or_create(choice_list=offices, label=label, defaults={"order": order})[0]
                )
            form, _created = Form.objects.get_or_create(title="Where you work", defaults={"for_all_tickets": True})
            field, _created = Field.objects.get_or_create(
                key=OFFICE_FIELD_KEY,
                defaults={"form": form, "label": "Office", "type": FieldType.LIST, "choice_list": offices},
            )
            # percent slot (0–99) → item id, as a CASE over cumulative shares
            cases, upper = [], 0
            for item in items:
                upper += OFFICE_SHARES[item.label]
                cases.append(f"WHEN ((t.id * 7919) / 100) %% 100 < {upper} THEN {item.pk}")
            first, last = self.ticket_id0, self.ticket_id0 + self.n  # the long ticket too
            table = FieldValue._meta.db_table
            # Only ids and table names from the models go into the text; the values are parameters.
            sql = (
                f'INSERT INTO "{table}" (field_id, ticket_id, item_id, text, updated_at) '  # noqa: S608
                f"SELECT %s, t.id, CASE {' '.join(cases)} END, '', t.created_at "
                f'FROM "{self.columns["ticket"].table}" t '
                "WHERE t.id BETWEEN %s AND %s AND (t.id * 31) %% 100 < %s"
            )
            with self.connection.cursor() as cursor:
                cursor.execute(sql, [field.pk, first, last, OFFICE_ANSWERED_PERCENT])
                return cursor.rowcount

    def _finish(self) -> None:
        from django.core.management.color import no_style
        from django.db import transaction

        from tessera.accounts.models import Organization, OrganizationDomain, User
        from tessera.customfields.models import FieldValue
        from tessera.tickets.models import Counter, Event, ThreadEntry, Ticket

        last = self.first_number + self.summary.tickets - 1
        self.summary.first_number, self.summary.last_number = self.first_number, last
        with transaction.atomic():
            Counter.objects.update_or_create(name="ticket", defaults={"value": last})
            if self.vendor == "postgresql":
                with self.connection.cursor() as cursor:
                    for statement in self.connection.ops.sequence_reset_sql(
                        no_style(), [User, Organization, OrganizationDomain, Ticket, ThreadEntry, Event, FieldValue]
                    ):
                        cursor.execute(statement)
        t = time.monotonic()
        tables = [m._meta.db_table for m in (Organization, User, Ticket, ThreadEntry, Event, FieldValue)]
        with self.connection.cursor() as cursor:
            for table in tables:
                if self.vendor == "postgresql":
                    # Frozen rows need no vacuum; appended ones get their visibility map set now,
                    # so index-only scans work from the first benchmark request.
                    # The custom-field answers are never frozen (INSERT … SELECT): vacuum them
                    # always, or the queue's filter probes (item, ticket) with a heap fetch each.
                    unfrozen = not self.summary.frozen or table == FieldValue._meta.db_table
                    vacuum = unfrozen and not self.connection.in_atomic_block
                    cursor.execute(f'{"VACUUM (ANALYZE)" if vacuum else "ANALYZE"} "{table}"')
                else:
                    cursor.execute(f'ANALYZE "{table}"')
        self.summary.timings["analyze"] = time.monotonic() - t
        self.out(f"statistics updated, {time.monotonic() - t:.1f} s")


def _date_words(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, UTC).strftime("%-d %B %Y")


# ---------------------------------------------------------------------------- the command


def _database_named_by_env() -> dict:
    """The DATABASE_URL's database, and the refusal when there is none: the generator never
    falls back to the default SQLite file (the developer's own desk)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit(
            "bench.generate: set DATABASE_URL to the database to fill, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench python -m bench.generate --tickets 1000\n"
            "It never writes to a database that DATABASE_URL does not name."
        )
    import environ

    return environ.Env.db_url_config(url)


def _ensure_postgres_database(config: dict) -> None:
    """Create the database DATABASE_URL names when the server does not have it yet."""
    import psycopg
    from psycopg import sql

    params: dict[str, Any] = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    try:
        psycopg.connect(dbname=config["NAME"], **params).close()
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
        print(f"created database {config['NAME']}", flush=True)


def build_search_index(stdout=None) -> tuple[float | None, str]:
    """Run `manage.py search_reindex` when the search app is there: the rows above went in
    without the services, so nothing indexed them. Returns (seconds, what happened)."""
    from django.apps import apps
    from django.core.management import call_command, get_commands

    if not apps.is_installed("tessera.search"):
        return None, "not installed"
    if "search_reindex" not in get_commands():
        return None, "tessera.search has no search_reindex command yet"
    from django.db import connection

    started = time.monotonic()
    call_command("search_reindex", **({"stdout": stdout} if stdout is not None else {}))
    seconds = time.monotonic() - started
    # The documents were just written: give the planner statistics (and PostgreSQL the visibility
    # map, for index-only scans) before anyone measures searching them.
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for model in apps.get_app_config("search").get_models():
            cursor.execute(f'{"VACUUM (ANALYZE)" if vacuum else "ANALYZE"} "{model._meta.db_table}"')
    return seconds, f"built in {seconds:.0f} s (then {'vacuumed and ' if vacuum else ''}analysed)"


def refuse_unless_empty(force_append: bool) -> None:
    """A desk with tickets is somebody's data (or an earlier run): add to it only when asked."""
    from django.db import connection

    from tessera.tickets.models import Ticket

    if Ticket.objects.exists() and not force_append:
        raise SystemExit(
            f"bench.generate: {connection.settings_dict['NAME']} already has tickets; "
            "use a fresh database or pass --force-append."
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, help="how many tickets to make (plus the long one)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--now",
        type=date.fromisoformat,
        help="the day the desk's two years end (YYYY-MM-DD; default today, UTC): with --seed, the same rows",
    )
    parser.add_argument("--force-append", action="store_true", help="add to a database that already has tickets")
    parser.add_argument("--no-search-index", action="store_true", help="skip manage.py search_reindex")
    parser.add_argument(
        "--fast", choices=["auto", "yes", "no"], default="auto", help="drop and rebuild indexes (PostgreSQL)"
    )
    parser.add_argument("--create-only", action="store_true", help="only create the PostgreSQL database if missing")
    args = parser.parse_args(argv)
    if not args.create_only and (args.tickets is None or args.tickets < 1):
        parser.error("--tickets must be at least 1")

    config = _database_named_by_env()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
    if config["ENGINE"].endswith("postgresql"):
        _ensure_postgres_database(config)
    if args.create_only:
        return 0

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    named, used = (
        (config.get("NAME"), config.get("HOST") or ""),
        (
            connection.settings_dict["NAME"],
            connection.settings_dict.get("HOST") or "",
        ),
    )
    if str(named[0]) != str(used[0]) or named[1] != used[1]:
        raise SystemExit(f"bench.generate: settings point at {used}, DATABASE_URL names {named}; refusing.")
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    refuse_unless_empty(args.force_append)

    fast = {"auto": None, "yes": True, "no": False}[args.fast]
    now = datetime(args.now.year, args.now.month, args.now.day, tzinfo=UTC) if args.now else None
    generator = Generator(args.tickets, seed=args.seed, fast=fast, now=now)
    summary = generator.run()
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise SystemExit(f"bench.generate: migrations not applied after the load: {pending}")

    if args.no_search_index:
        search = "skipped (--no-search-index)"
    else:
        seconds, search = build_search_index()
        if seconds is not None:
            summary.timings["search_index"] = seconds

    s = summary
    print(
        f"\ndone: {s.tickets:,} tickets (#{s.first_number}–#{s.last_number}), {s.entries:,} entries "
        f"({s.entries / max(s.tickets, 1):.2f} per ticket), {s.events:,} events, {s.users:,} end users, "
        f"{s.organizations:,} organisations, {s.field_values:,} answers to the custom field {OFFICE_FIELD_KEY!r}",
        flush=True,
    )
    print(f"load: {s.timings['load']:.0f} s, total (without search): {s.timings['total']:.0f} s", flush=True)
    print(f"search index: {search}", flush=True)
    print(f"ticket with {LONG_TICKET_ENTRIES} entries: #{s.long_ticket_number}", flush=True)
    print(f"bench agent: {BENCH_AGENT_EMAIL} (password from BENCH_PASSWORD, default {DEFAULT_BENCH_PASSWORD!r})")
    print("migrations: up to date; schema unchanged" + (" (checked)" if s.fast_path else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
