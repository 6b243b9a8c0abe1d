"""Rebuilding the index: manage.py search_reindex, and the migration on a desk that has tickets."""

from __future__ import annotations

from io import StringIO

import pytest

from django.core.management import call_command
from django.db import connection

from tessera.search.models import TicketDocument

from .conftest import found


def _drop_the_index() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP INDEX search_document_gin")
            cursor.execute("DELETE FROM search_ticketdocument")
        else:
            cursor.execute("DROP TRIGGER search_document_deleted")
            cursor.execute("DROP TABLE search_fts")
            cursor.execute("DELETE FROM search_ticketdocument")


def _index_exists() -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT to_regclass('search_document_gin') IS NOT NULL")
        else:
            cursor.execute(
                "SELECT count(*) = 2 FROM sqlite_master WHERE name IN ('search_fts', 'search_document_deleted')"
            )
        return bool(cursor.fetchone()[0])


def test_search_reindex_rebuilds_a_dropped_index_and_shows_progress(desk, open_ticket):
    tickets = [open_ticket(f"Badger {i}", f"Badger number {i} in the server room.") for i in range(5)]
    _drop_the_index()
    assert not _index_exists()

    out = StringIO()
    call_command("search_reindex", batch_size=2, stdout=out)

    assert _index_exists()
    assert "indexed 5 / 5 tickets…" in out.getvalue()
    assert "Search index rebuilt: 5 tickets" in out.getvalue()
    assert sorted(found(desk.john, "badger")) == sorted(t.number for t in tickets)
    assert TicketDocument.objects.count() == 5


def test_search_reindex_in_place_picks_up_renamed_people_and_keeps_appending(desk, ken_ticket):
    from tessera.tickets import services

    desk.ken.name = "Kenneth Adamson"
    desk.ken.save()
    assert found(desk.john, "Kenneth") == []  # renaming does not touch the documents

    call_command("search_reindex", in_place=True, stdout=StringIO())

    assert found(desk.john, "Kenneth") == [ken_ticket.number]
    services.reply(desk.john.user, ken_ticket, message="Reindexed and still appending: ocelot.")
    assert found(desk.john, "ocelot jams") == [ken_ticket.number]


@pytest.mark.django_db(transaction=True)
def test_the_migration_indexes_the_tickets_a_desk_already_has(desk, open_ticket):
    first = open_ticket("Heron in the lobby", "A heron walked in.")
    second = open_ticket("Second heron", "Another heron.", topic=desk.outage)

    call_command("migrate", "search", "zero", verbosity=0)
    try:
        assert "search_ticketdocument" not in connection.introspection.table_names()
    finally:
        call_command("migrate", "search", verbosity=0)

    assert _index_exists()
    assert found(desk.john, "heron") == [first.number]
    assert found(desk.jane, "heron") == [second.number]
    assert TicketDocument.objects.get(pk=first.pk).entry_count == 1


@pytest.mark.django_db(transaction=True)
def test_search_reindex_with_several_workers_indexes_every_ticket(desk, open_ticket):
    tickets = [open_ticket(f"Otter {i}", "Otters in the server room.") for i in range(7)]
    TicketDocument.objects.all().delete()
    assert found(desk.john, "otter") == []

    out = StringIO()
    call_command("search_reindex", batch_size=2, workers=3, stdout=out)

    assert sorted(found(desk.john, "otter")) == sorted(t.number for t in tickets)
    assert "indexed 7 / 7 tickets…" in out.getvalue()
    assert _index_exists()
