"""A new ticket's search document is written without a savepoint when PostgreSQL cannot refuse it.

The savepoint exists so that text PostgreSQL refuses (a tsvector over its 1 MB limit) leaves
the ticket without a document instead of failing it. A new ticket's text under a twelfth of the
limit in characters cannot reach it, so its document is one statement, two fewer round trips
per creation (issue 13); longer text keeps the savepoint.
"""

from __future__ import annotations

import itertools

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tessera.search import index
from tessera.tickets import services

from .conftest import found

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the savepoint guards PostgreSQL's tsvector"),
]


def _open(desk, message: str):
    with CaptureQueriesContext(connection) as queries:
        ticket = services.open_ticket(
            desk.ken, requester=desk.ken, subject="Printer jams", message=message, topic=desk.general
        )
    statements = [q["sql"] for q in queries.captured_queries]
    at = next(i for i, sql in enumerate(statements) if "INSERT INTO search_ticketdocument" in sql)
    return ticket, statements[at - 1]


def _worst_case_words(chars: int) -> str:
    """Distinct words of four-byte letters (mathematical bold capitals, which have no lower case):
    the most lexeme bytes a character can make."""
    letters = [chr(c) for c in range(0x1D400, 0x1D41A)]
    words = ("".join(w) for w in itertools.product(letters, repeat=4))
    text, size = [], 0
    for word in words:
        if size + len(word) + 1 > chars:
            break
        text.append(word)
        size += len(word) + 1
    return " ".join(text)


def test_an_ordinary_new_ticket_writes_its_document_without_a_savepoint(desk):
    ticket, before = _open(desk, "The printer on the third floor jams on page two.")
    assert not before.startswith("SAVEPOINT")
    assert found(desk.john, "third floor") == [ticket.number]


def test_the_longest_text_written_without_a_savepoint_is_far_inside_postgresqls_limit(desk):
    limit_chars = index.TSVECTOR_MAX_BYTES // 12
    text = _worst_case_words(limit_chars - 40)  # the subject and the people fill the rest
    ticket, before = _open(desk, text)
    assert not before.startswith("SAVEPOINT")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_column_size(document) FROM search_ticketdocument WHERE ticket_id = %s", [ticket.pk])
        assert cursor.fetchone()[0] < index.TSVECTOR_MAX_BYTES / 2


def test_a_rebuilt_document_of_longer_text_keeps_the_savepoint_and_is_found(desk, ken_ticket):
    """A new ticket's text is at most one entry's worth (MAX_ENTRY_CHARS); a rebuild of a long
    thread (search_reindex) can be up to MAX_BODY_CHARS, and is still guarded."""
    body = "jams " + _worst_case_words(index.TSVECTOR_MAX_BYTES // 12 + 1000)
    state = index._State(
        number=ken_ticket.number,
        subject=ken_ticket.subject,
        people="Ken Adams ken@example.com",
        has_document=True,
        head="",
        last_entry_id=0,
        entry_count=0,
        indexed_chars=0,
        older_entries=0,
    )
    with CaptureQueriesContext(connection) as queries:
        index._Postgres().replace(ken_ticket.pk, state, body, last_entry_id=0, entry_count=1, indexed_chars=len(body))
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SAVEPOINT", "INSERT", "RELEASE"]
    assert found(desk.john, "jams") == [ken_ticket.number]


def test_a_new_tickets_text_always_fits_without_the_savepoint():
    longest = 255 + 1000 + index.MAX_ENTRY_CHARS  # subject, people, the first entry's share
    assert index._always_fits(longest)
    assert not index._always_fits(index.MAX_BODY_CHARS)
