"""Time portal ticket creation with and without routing rules, as the portal's service does it.

    python -m bench.portal_rules --rules 50 --tickets 200 --rounds 5 \\
        --database-url sqlite:////tmp/rules-bench-portal.sqlite3

It migrates the database it is given, writes N routing rules as `bench.routing --seed-only`
does (most match few tickets), then, in alternating rounds so that the machine's load falls on
both alike, opens tickets through `services.open_ticket_for_guest` (a new guest address each
time, as a portal visitor) with the rules switched off and switched on. Mail stays in memory and
notifications are queued as task rows (production's set-up). It never writes to the default
SQLite file.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time


def measure(rule_count: int, tickets: int, rounds: int) -> None:
    from tessera.accounts.models import Department
    from tessera.rules import engine
    from tessera.rules.models import Rule
    from tessera.tickets import services
    from tessera.tickets.models import HelpTopic

    from .routing import WORDS, seed_rules

    seed_rules(rule_count, positive_only=True)
    support, _created = Department.objects.get_or_create(
        name="Support", defaults={"email": "support@portal-bench.example"}
    )
    topic, _created = HelpTopic.objects.get_or_create(name="General question", defaults={"department": support})
    rng = random.Random(5)
    timings: dict[bool, list[float]] = {False: [], True: []}
    walls: dict[bool, float] = {False: 0.0, True: 0.0}
    serial = 0
    for _warm in range(10):  # the first tickets pay for imports and caches, in neither column
        serial += 1
        services.open_ticket_for_guest(
            email=f"guest{serial}@portal-bench.example", name="Guest", subject="warm", message="up", topic=topic
        )
    for _round in range(rounds):
        for with_rules in (False, True):
            Rule.objects.update(is_active=with_rules)
            engine.active_rules.forget()
            begun_round = time.perf_counter()
            for _n in range(tickets):
                serial += 1
                words = [rng.choice(WORDS) for _w in range(rng.randint(40, 120))]
                begun = time.perf_counter()
                services.open_ticket_for_guest(
                    email=f"guest{serial}@portal-bench.example",
                    name=f"Guest {serial}",
                    subject=" ".join(rng.choice(WORDS) for _w in range(6)),
                    message=" ".join(words),
                    topic=topic,
                )
                timings[with_rules].append((time.perf_counter() - begun) * 1000)
            walls[with_rules] += time.perf_counter() - begun_round
    for with_rules in (False, True):
        times = sorted(timings[with_rules])
        label = f"{rule_count} rules" if with_rules else "no rules"
        print(
            f"{label}: {len(times) / walls[with_rules]:.1f} tickets/s, mean {statistics.fmean(times):.2f} ms, "
            f"p50 {times[len(times) // 2]:.2f} ms, p95 {times[int(len(times) * 0.95)]:.2f} ms"
        )
    print(f"{Rule.objects.filter(match_count__gt=0).count()} of the {rule_count} rules matched some ticket")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--tickets", type=int, default=200, help="tickets per round and setting")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", help="the database to use (default: DATABASE_URL)")
    args = parser.parse_args(argv)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if not os.environ.get("DATABASE_URL"):
        print("bench.portal_rules: pass --database-url (it never uses the default SQLite file)", file=sys.stderr)
        return 2
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
    os.environ["EMAIL_URL"] = "memorymail://"
    os.environ["TASKS_BACKEND"] = "database"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    measure(args.rules, args.tickets, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
