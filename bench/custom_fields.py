"""How a queue filtered on a choice field runs at a desk's full size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench python -m bench.custom_fields [--repeat 7]

On a generated desk (bench.generate), answers one list field ("Office", six items) on every
ticket, once: items are skewed as offices are (Berlin 40 %, Lisbon 25 %, Toronto 20 %, Remote
10 %, Oslo 4 %, Nairobi 1 %), written with one INSERT … SELECT and analysed. Then, as the
bench agent, for the most and the least common item, it times what a filtered queue asks:
the first page of "open" (51 rows by keyset, newest activity first) and its capped count
(`selectors.capped_counts`, at most 10,001 index entries), through the same
`selectors.queue_tickets` with the filter a queue would add:
`pk__in=FieldValue(item=I).values("ticket_id")`. Prints the median and the worst run of
each statement (EXPLAIN ANALYZE execution time) and flags a sequential scan of the answers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

ITEMS = [("Berlin", 40), ("Lisbon", 25), ("Toronto", 20), ("Remote", 10), ("Oslo", 4), ("Nairobi", 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from bench.generate import BENCH_AGENT_EMAIL
    from tessera.accounts.models import Agent
    from tessera.customfields.models import ChoiceItem, ChoiceList, Field, FieldType, FieldValue, Form
    from tessera.tickets import selectors
    from tessera.tickets.models import Ticket

    if connection.vendor != "postgresql":
        print("PostgreSQL only: the plans are what this measures.")
        return 2
    field = Field.objects.filter(key="bench_office").first()
    if field is None:
        with transaction.atomic():
            offices = ChoiceList.objects.create(name="Bench offices")
            form = Form.objects.create(title="Bench", for_all_tickets=True)
            field = Field.objects.create(
                form=form, key="bench_office", label="Office", type=FieldType.LIST, choice_list=offices
            )
            items = [
                ChoiceItem.objects.create(choice_list=offices, label=label, order=n)
                for n, (label, _) in enumerate(ITEMS)
            ]
            # Ticket id mod 100 picks the item by its share: one INSERT … SELECT over the desk.
            cases, low = [], 0
            for item, (_label, share) in zip(items, ITEMS, strict=True):
                cases.append(f"WHEN t.id %% 100 < {low + share} THEN {item.pk}")
                low += share
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {FieldValue._meta.db_table} (field_id, ticket_id, item_id, text, updated_at) "  # noqa: S608  table names are the models' own
                    f"SELECT %s, t.id, CASE {' '.join(cases)} END, '', now() FROM {Ticket._meta.db_table} t",
                    [field.pk],
                )
    if not FieldValue.objects.filter(field=field).exists():
        return 1
    with connection.cursor() as cursor:
        # As autovacuum would have by now: the visibility map lets the (item, ticket) index answer alone.
        cursor.execute(f"VACUUM ANALYZE {FieldValue._meta.db_table}")
    items = list(ChoiceItem.objects.filter(choice_list_id=field.choice_list_id).order_by("order"))
    agent = Agent.objects.select_related("user").get(user__email=BENCH_AGENT_EMAIL)
    answers = FieldValue.objects.filter(field=field).count()
    print(f"desk: {Ticket.objects.count():,} tickets, {answers:,} answers; load {os.getloadavg()[0]:.1f}")
    for item in (items[0], items[-1]):
        chosen = FieldValue.objects.filter(item=item).values("ticket_id")
        queue = selectors.queue_tickets(agent, "open").filter(pk__in=chosen)
        page = queue.values_list("id", flat=True)[:51]
        # As selectors.capped_counts asks: a LIMITed id subquery, unordered.
        count = queue.order_by().values("pk")[:10001]
        for name, qs in (("first page", page), ("capped count", count)):
            sql, params = qs.query.sql_with_params()
            if name == "capped count":
                sql, params = f"SELECT COUNT(*) FROM ({sql}) counted", params  # noqa: S608  built by the ORM
            times, plan = [], ""
            for _ in range(args.repeat):
                with connection.cursor() as cursor:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                times.append(float(plan.rsplit("Execution Time: ", 1)[1].split(" ms")[0]))
            scan = " SEQUENTIAL SCAN of answers" if "Seq Scan on customfields_fieldvalue" in plan else ""
            print(
                f"{item.label:8} {name:13} median {statistics.median(times):7.2f} ms, worst {max(times):7.2f} ms{scan}"
            )
            if os.environ.get("BENCH_PLANS"):
                print(plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
