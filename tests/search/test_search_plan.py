"""The PostgreSQL search keeps one plan shape at every desk size (issue 11).

At 100,000 tickets the old statement let the planner choose how to join the newest visible
tickets to their search documents, and it chose a hash join over a sequential scan of every
document (150 ms) where a probe per ticket takes a few. A test desk is far too small to make
the planner choose that by itself, so the planner is told to avoid nested loops and
sequential scans (`enable_nestloop`, `enable_seqscan` off: any other join it could pick, it
now prefers). A statement that leaves the planner a choice turns into a hash or merge join
here; only one that leaves no choice keeps probing the document table by primary key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tessera.search.query import search

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's FTS5 search has no such plan")


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _plan_under_hostile_costs(sql: str) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        raw = cursor.fetchone()[0]
        cursor.execute("RESET enable_nestloop")
        cursor.execute("RESET enable_seqscan")
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def _search_statement(agent, text: str) -> str:
    with CaptureQueriesContext(connection) as ctx:
        search(agent, text)
    [sql] = [q["sql"] for q in ctx.captured_queries if "search_ticketdocument" in q["sql"]]
    return sql


def _reads(node: dict[str, Any], scan: dict[str, Any]) -> bool:
    return any(n is scan for n in _nodes(node))


def _recent_step(plan: dict[str, Any]) -> dict[str, Any]:
    [recent] = [n for n in _nodes(plan) if n.get("Subplan Name") == "CTE recent"]
    return recent


@pytest.mark.parametrize("word", ["printer", "kerberos"])
def test_the_newest_tickets_documents_are_probed_by_key_even_when_the_planner_would_rather_join(
    desk, open_ticket, word
):
    for i in range(5):
        open_ticket(f"Printer {i} jams", "The printer on floor 3 jams.")
    open_ticket("Ticket expired", "Kerberos ticket expired on the file server.")

    recent = _recent_step(_plan_under_hostile_costs(_search_statement(desk.john, word)))

    nodes = list(_nodes(recent))
    documents = [n for n in nodes if n.get("Relation Name") == "search_ticketdocument"]
    assert [(n["Node Type"], n.get("Index Name")) for n in documents] == [("Index Scan", "search_ticketdocument_pkey")]
    probe = documents[0]
    assert "ticket_id = tickets_ticket.id" in probe["Index Cond"]
    joins = [n for n in nodes if n["Node Type"] in ("Nested Loop", "Hash Join", "Merge Join") and _reads(n, probe)]
    assert [n["Node Type"] for n in joins] == ["Nested Loop"]
    assert _reads(joins[0]["Plans"][1], probe)  # one probe per candidate ticket: the loop's inner side


def test_the_search_still_finds_the_newest_matches_first_under_those_costs(desk, open_ticket):
    """The probe plan is not just a shape: it returns what the search is for."""
    tickets = [open_ticket(f"Printer {i} jams", "The printer jams.") for i in range(3)]

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        numbers = {hit.ticket.number for hit in search(desk.john, "printer")}
        cursor.execute("RESET enable_nestloop")
        cursor.execute("RESET enable_seqscan")

    assert numbers == {t.number for t in tickets}
