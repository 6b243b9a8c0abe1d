"""Time the routing rules: how long deciding what N rules do to a new ticket takes.

    python -m bench.routing --rules 200 --samples 5000 --database-url sqlite:////tmp/bench-routing.sqlite3
    # only write the rules (e.g. 50 before `python -m bench.ingest --force` on the same database):
    python -m bench.routing --rules 50 --seed-only --database-url sqlite:////tmp/bench-ingest.sqlite3

It migrates the database it is given, replaces its routing rules with N varied ones (every
field and operator, a fifth of them patterns, match all and any, a few that match often and
set a priority or copy an address) and times `engine.evaluate` over many sample tickets after
the rules were compiled once, as a long-running process sees them. It also counts the queries
made while evaluating (there should be none). It never writes to the default SQLite file.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

FIELDS_TEXT = ["subject", "body", "sender", "sender_domain", "recipient", "organization", "topic", "priority"]
OPERATORS = ["equals", "not_equals", "contains", "not_contains", "starts_with", "ends_with", "one_of", "regex"]
WORDS = [
    "invoice",
    "refund",
    "printer",
    "password",
    "vpn",
    "outage",
    "laptop",
    "email",
    "login",
    "billing",
    "contract",
    "renewal",
    "server",
    "disk",
    "backup",
    "network",
    "phone",
    "licence",
    "account",
    "upgrade",
    "error",
    "crash",
    "slow",
    "urgent",
]


def _value(rng: random.Random, field: str, operator: str) -> str:
    word = rng.choice(WORDS)
    if operator == "regex":
        return rng.choice(
            [rf"\b{word}\s+\d+", rf"^(re|fwd):\s*{word}", rf"{word}.*(asap|urgent)", rf"[a-z]+@{word}\.example"]
        )
    if operator == "one_of":
        return ", ".join(rng.sample(WORDS, 4))
    if field in ("sender", "recipient"):
        return f"{word}@{rng.choice(WORDS)}.example"
    if field == "sender_domain":
        return f"{word}.example"
    return word


def seed_rules(count: int, seed: int = 7, *, positive_only: bool = False) -> None:
    """`positive_only`: no "does not" operators and match all, so, as on a real desk, few rules
    match a given ticket (the ingest comparison measures the rules' cost, not extra work)."""
    from tessera.accounts.models import Role
    from tessera.rules.models import Action, Condition, Rule
    from tessera.tickets.defaults import ensure_defaults
    from tessera.tickets.models import Priority, Status

    ensure_defaults(Priority, Status, Role)
    rng = random.Random(seed)
    priorities = list(Priority.objects.all())
    Rule.objects.all().delete()
    for n in range(count):
        match = "all" if positive_only else rng.choice(["all", "any"])
        rule = Rule.objects.create(name=f"bench rule {n}", order=n, match=match)
        choices = [o for o in OPERATORS[:-1] if not (positive_only and o.startswith("not_"))]
        for _i in range(rng.randint(1, 3)):
            field = rng.choice(FIELDS_TEXT)
            operator = "regex" if rng.random() < 0.2 else rng.choice(choices)
            Condition.objects.create(rule=rule, field=field, operator=operator, value=_value(rng, field, operator))
        if rng.random() < 0.5:
            Action.objects.create(rule=rule, kind="priority", priority=rng.choice(priorities))
        else:
            Action.objects.create(rule=rule, kind="collaborators", text=f"watch{n}@bench.example")


def samples(count: int, seed: int = 11) -> list:
    from tessera.rules import engine

    rng = random.Random(seed)
    found = []
    for _n in range(count):
        words = [rng.choice(WORDS) for _w in range(rng.randint(150, 300))]
        found.append(
            engine.Sample(
                channel=rng.choice(["web", "email", "api", "staff"]),
                sender=f"{rng.choice(WORDS)}{rng.randint(1, 999)}@{rng.choice(WORDS)}.example",
                recipients=(f"{rng.choice(WORDS)}@desk.example",),
                subject=" ".join(rng.choice(WORDS) for _w in range(6)),
                body=" ".join(words),
                topic=rng.choice(["General question", "Billing", "Outage"]),
                organization=rng.choice(["", "Acme", "Globex"]),
                priority=rng.choice(["Sev-A", "Sev-B", "Sev-C"]),
            )
        )
    return found


def measure(rule_count: int, sample_count: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tessera.rules import engine

    seed_rules(rule_count)
    engine.active_rules.forget()
    tickets = samples(sample_count)
    started = time.perf_counter()
    compiled = engine.active_rules()
    print(f"compiled {len(compiled.rules)} rules in {(time.perf_counter() - started) * 1000:.1f} ms")
    times = []
    cpu = []  # the CPU this thread spent: what the rules cost, whatever else the machine runs
    matched = 0
    with CaptureQueriesContext(connection) as queries:
        for sample in tickets:
            begun = time.perf_counter()
            begun_cpu = time.thread_time()
            plan = engine.evaluate(sample)
            cpu.append((time.thread_time() - begun_cpu) * 1000)
            times.append((time.perf_counter() - begun) * 1000)
            matched += len(plan.applied)
    times.sort()
    cpu.sort()
    print(
        f"{rule_count} rules x {sample_count} tickets: mean {statistics.fmean(times):.3f} ms, "
        f"p50 {times[len(times) // 2]:.3f} ms, p95 {times[int(len(times) * 0.95)]:.3f} ms, "
        f"max {times[-1]:.3f} ms per ticket; {matched / sample_count:.1f} rules matched per ticket; "
        f"{len(queries)} queries while evaluating"
    )
    print(
        f"CPU time per ticket: mean {statistics.fmean(cpu):.3f} ms, p50 {cpu[len(cpu) // 2]:.3f} ms, "
        f"p95 {cpu[int(len(cpu) * 0.95)]:.3f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--seed-only", action="store_true", help="write the rules and stop")
    parser.add_argument("--database-url", help="the database to use (default: DATABASE_URL)")
    args = parser.parse_args(argv)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if not os.environ.get("DATABASE_URL"):
        print("bench.routing: pass --database-url (it never uses the default SQLite file)", file=sys.stderr)
        return 2
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    if args.seed_only:
        seed_rules(args.rules, positive_only=True)
        print(f"wrote {args.rules} routing rules")
        return 0
    measure(args.rules, args.samples)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
