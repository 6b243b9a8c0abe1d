"""The ticket's sort key on its choice answers: `FieldValue.ticket_updated_at`, kept by triggers.

Why: a queue filtered on a rare item ("Office = Riga", 1 % of answers) used to walk the queue's
`(updated_at, id)` index and probe every ticket for the item — 18,000 tickets for a page of 50 at
a million tickets. With the ticket's `updated_at` beside each answer, the page walks the item's
own answers newest first (index `cf_value_item_sort`) and joins each to its ticket.

Why triggers and not the services: `updated_at` changes on many paths — `save()`, queryset
`.update()` in bulk actions, the SLA scan, imports, raw SQL in the bench generator — and a copy
that misses one path silently drops tickets from filtered queues or shows them out of order.
The database sees every path:

- after an UPDATE of a ticket's `updated_at`, its choice answers get the new value;
- on INSERT or UPDATE of an answer, the value is read from the ticket (whatever the ORM sent:
  a stale instance saved later cannot write an old time back), NULL for answers without a
  ticket or an item.

SQLite drops a table's triggers when Django remakes the table (its way of altering columns), so
`ensure()` runs after every `migrate` (post_migrate, apps.py): it recreates missing triggers and
copies the values again. A test checks the triggers exist after the migrations.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

TICKETS = "tickets_ticket"
ANSWERS = "customfields_fieldvalue"
TRIGGERS = ("cf_ticket_sort_key", "cf_value_sort_key_insert", "cf_value_sort_key_update")
PG_TRIGGERS = ("cf_ticket_sort_key", "cf_value_sort_key")

_PG_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION cf_ticket_sort_key() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE customfields_fieldvalue SET ticket_updated_at = NEW.updated_at
         WHERE ticket_id = NEW.id AND item_id IS NOT NULL
           AND ticket_updated_at IS DISTINCT FROM NEW.updated_at;
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS cf_ticket_sort_key ON tickets_ticket",
    """
    CREATE TRIGGER cf_ticket_sort_key AFTER UPDATE OF updated_at ON tickets_ticket
        FOR EACH ROW WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at)
        EXECUTE FUNCTION cf_ticket_sort_key()
    """,
    """
    CREATE OR REPLACE FUNCTION cf_value_sort_key() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.ticket_id IS NULL OR NEW.item_id IS NULL THEN
            NEW.ticket_updated_at := NULL;
        ELSE
            SELECT updated_at INTO NEW.ticket_updated_at FROM tickets_ticket WHERE id = NEW.ticket_id;
        END IF;
        RETURN NEW;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS cf_value_sort_key ON customfields_fieldvalue",
    """
    CREATE TRIGGER cf_value_sort_key BEFORE INSERT OR UPDATE ON customfields_fieldvalue
        FOR EACH ROW EXECUTE FUNCTION cf_value_sort_key()
    """,
]
_PG_UNINSTALL = [
    "DROP TRIGGER IF EXISTS cf_ticket_sort_key ON tickets_ticket",
    "DROP TRIGGER IF EXISTS cf_value_sort_key ON customfields_fieldvalue",
    "DROP FUNCTION IF EXISTS cf_ticket_sort_key()",
    "DROP FUNCTION IF EXISTS cf_value_sort_key()",
]
# SQLite's triggers cannot change NEW: they correct the row after the write, to the value an answer
# row should hold (its ticket's `updated_at`, NULL without an item). Recursive triggers are off
# (SQLite's default), so a trigger's own UPDATE does not fire it again; the UPDATE trigger's WHEN
# finds the value already right after the other two.
_SQLITE_ANSWER_KEY = (
    "(CASE WHEN NEW.item_id IS NULL THEN NULL"
    " ELSE (SELECT updated_at FROM tickets_ticket WHERE id = NEW.ticket_id) END)"
)
_SQLITE_INSTALL = [
    """
    CREATE TRIGGER IF NOT EXISTS cf_ticket_sort_key AFTER UPDATE OF updated_at ON tickets_ticket
    FOR EACH ROW WHEN OLD.updated_at IS NOT NEW.updated_at
    BEGIN
        UPDATE customfields_fieldvalue SET ticket_updated_at = NEW.updated_at
         WHERE ticket_id = NEW.id AND item_id IS NOT NULL AND ticket_updated_at IS NOT NEW.updated_at;
    END
    """,
    *(  # the answer's INSERT and UPDATE triggers, the same but for the event; constants only
        f"""
    CREATE TRIGGER IF NOT EXISTS cf_value_sort_key_{event.lower()} AFTER {event} ON customfields_fieldvalue
    FOR EACH ROW WHEN NEW.ticket_updated_at IS NOT {_SQLITE_ANSWER_KEY}
    BEGIN
        UPDATE customfields_fieldvalue SET ticket_updated_at = {_SQLITE_ANSWER_KEY} WHERE id = NEW.id;
    END
    """  # noqa: S608
        for event in ("INSERT", "UPDATE")
    ),
]
_SQLITE_UNINSTALL = [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS]

# Every answer's value from its ticket, for rows written before the triggers existed.
_PG_BACKFILL = """
    UPDATE customfields_fieldvalue AS v SET ticket_updated_at = t.updated_at
      FROM tickets_ticket AS t
     WHERE t.id = v.ticket_id AND v.item_id IS NOT NULL
       AND v.ticket_updated_at IS DISTINCT FROM t.updated_at
"""
_SQLITE_BACKFILL = """
    UPDATE customfields_fieldvalue
       SET ticket_updated_at = (SELECT updated_at FROM tickets_ticket WHERE id = customfields_fieldvalue.ticket_id)
     WHERE ticket_id IS NOT NULL AND item_id IS NOT NULL
"""


def _run(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install(connection: BaseDatabaseWrapper) -> None:
    """Create (or replace) the triggers, then copy every answer's value from its ticket.

    PostgreSQL: the ticket trigger comes first, so no ticket write can slip between the copy
    and the trigger (CREATE TRIGGER locks the ticket table against writes until commit; the
    migration's ADD COLUMN already holds the answers table)."""
    if connection.vendor == "postgresql":
        _run(connection, _PG_INSTALL[:3])
        _run(connection, [_PG_BACKFILL])
        _run(connection, _PG_INSTALL[3:])
    elif connection.vendor == "sqlite":
        _run(connection, _SQLITE_INSTALL)
        _run(connection, [_SQLITE_BACKFILL])
    else:
        raise NotImplementedError(f"customfields.sortkey: no triggers for {connection.vendor}")


def uninstall(connection: BaseDatabaseWrapper) -> None:
    _run(connection, _PG_UNINSTALL if connection.vendor == "postgresql" else _SQLITE_UNINSTALL)


def installed(connection: BaseDatabaseWrapper) -> set[str]:
    """The names of this module's triggers present in the database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(%s)", [list(PG_TRIGGERS)]
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN (%s)" % ", ".join(["%s"] * 3),  # noqa: S608, UP031  placeholders only
                list(TRIGGERS),
            )
        return {row[0] for row in cursor.fetchall()}


def expected(connection: BaseDatabaseWrapper) -> set[str]:
    return set(PG_TRIGGERS if connection.vendor == "postgresql" else TRIGGERS)


def ensure(connection: BaseDatabaseWrapper) -> bool:
    """Recreate the triggers (and copy the values again) when one is missing, as after SQLite
    remade a table; nothing when they are all there, or before the column exists. True when it
    had to install."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return False
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        if ANSWERS not in tables or TICKETS not in tables:
            return False
        columns = {c.name for c in connection.introspection.get_table_description(cursor, ANSWERS)}
    if "ticket_updated_at" not in columns or installed(connection) == expected(connection):
        return False
    install(connection)
    return True


def after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver (apps.py)."""
    from django.db import connections

    ensure(connections[using])
