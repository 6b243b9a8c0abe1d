"""The search index: one document per ticket, on PostgreSQL and on SQLite.

- Both databases get the table search_ticketdocument (ticket id as primary key, plus the
  bookkeeping that lets a reply be appended instead of re-indexing the thread).
- PostgreSQL: its `document` tsvector column, filled here, then a GIN index built once over
  the filled table (building it after the backfill is far faster than maintaining it row by
  row). The index is declared on the model, so the migration state knows it; the SQL only runs
  on PostgreSQL (SeparateDatabaseAndState).
- SQLite: an FTS5 virtual table search_fts (rowid = ticket id; columns number, subject,
  people, body) and a trigger that drops a ticket's FTS5 row with its document row.

Existing tickets are indexed right here, 5,000 per statement, so upgrading a desk that already
has tickets needs no extra step. `manage.py search_reindex` does the same at any later time
(and shows progress); the SQL below is a frozen copy of tessera.search.index's bulk SQL, so
this migration keeps working whatever that module becomes.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

BATCH = 5000

FTS5_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "number, subject, people, body, tokenize = 'unicode61 remove_diacritics 0')"
)
FTS5_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS search_document_deleted AFTER DELETE ON search_ticketdocument "
    "BEGIN DELETE FROM search_fts WHERE rowid = old.ticket_id; END"
)

PG_BULK = r"""
INSERT INTO search_ticketdocument (ticket_id, document, head, last_entry_id, entry_count, indexed_chars)
SELECT t.id,
       setweight(to_tsvector('simple', translate(t.number::text || ' ' || t.subject, '!"#$&''()*+,-./:;<=>?@[\]^_`{|}~', '                               ')), 'A')
       || setweight(to_tsvector('simple', translate(p.people, '!"#$&''()*+,-./:;<=>?@[\]^_`{|}~', '                               ')), 'B')
       || to_tsvector('simple', translate(coalesce(e.body, ''), '!"#$&''()*+,-./:;<=>?@[\]^_`{|}~', '                               ')),
       t.number::text || chr(31) || t.subject || chr(31) || p.people,
       coalesce(e.last_id, 0), coalesce(e.n, 0), coalesce(length(e.body), 0)
FROM tickets_ticket t
JOIN accounts_user u ON u.id = t.user_id
LEFT JOIN accounts_organization o ON o.id = coalesce(t.organization_id, u.organization_id)
CROSS JOIN LATERAL (SELECT u.name || ' ' || u.email || coalesce(' ' || o.name, '') AS people) p
LEFT JOIN (
    SELECT ticket_id, max(id) AS last_id, count(*) AS n,
           left(string_agg(left(translate(body_text, chr(2) || chr(3), '  '), 20000), chr(10) ORDER BY id),
                200000) AS body
    FROM tickets_threadentry WHERE ticket_id BETWEEN %s AND %s GROUP BY ticket_id
) e ON e.ticket_id = t.id
WHERE t.id BETWEEN %s AND %s
ON CONFLICT (ticket_id) DO NOTHING
"""

SQLITE_BATCH = """
SELECT t.id AS ticket_id, CAST(t.number AS TEXT) AS number, t.subject AS subject,
       u.name || ' ' || u.email || coalesce(' ' || o.name, '') AS people,
       coalesce(e.body, '') AS body, coalesce(e.last_id, 0) AS last_id, coalesce(e.n, 0) AS n
FROM tickets_ticket t
JOIN accounts_user u ON u.id = t.user_id
LEFT JOIN accounts_organization o ON o.id = coalesce(t.organization_id, u.organization_id)
LEFT JOIN (
    SELECT ticket_id, max(id) AS last_id, count(*) AS n,
           substr(group_concat(substr(replace(replace(body_text, char(2), ' '), char(3), ' '), 1, 20000),
                               char(10)), 1, 200000) AS body
    FROM (SELECT ticket_id, id, body_text FROM tickets_threadentry
          WHERE ticket_id BETWEEN %s AND %s ORDER BY ticket_id, id)
    GROUP BY ticket_id
) e ON e.ticket_id = t.id
WHERE t.id BETWEEN %s AND %s
"""
SQLITE_BULK = [
    f"INSERT INTO search_fts (rowid, number, subject, people, body) "
    f"SELECT ticket_id, number, subject, people, body FROM ({SQLITE_BATCH})",
    "INSERT INTO search_ticketdocument (ticket_id, document, head, last_entry_id, entry_count, indexed_chars) "
    "SELECT ticket_id, NULL, number || char(31) || subject || char(31) || people, last_id, n, length(body) "
    f"FROM ({SQLITE_BATCH})",
]


def create_fts5(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(FTS5_CREATE)
        schema_editor.execute(FTS5_TRIGGER)


def drop_fts5(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS search_document_deleted")
        schema_editor.execute("DROP TABLE IF EXISTS search_fts")


def backfill(apps, schema_editor):
    """Index the tickets that exist already, in batches of ticket ids."""
    connection = schema_editor.connection
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    statements = [PG_BULK] if connection.vendor == "postgresql" else SQLITE_BULK
    last = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT id FROM tickets_ticket WHERE id > %s ORDER BY id LIMIT %s", [last, BATCH])
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            for sql in statements:
                cursor.execute(sql, [ids[0], ids[-1], ids[0], ids[-1]])
            last = ids[-1]


def create_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # The backfill's deferred foreign-key checks must run before CREATE INDEX may.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        model = apps.get_model("search", "TicketDocument")
        schema_editor.add_index(model, _gin())


def drop_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        model = apps.get_model("search", "TicketDocument")
        schema_editor.remove_index(model, _gin())


def _gin():
    return django.contrib.postgres.indexes.GinIndex(fields=["document"], name="search_document_gin")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        ("tickets", "0003_workday"),
    ]

    operations = [
        migrations.CreateModel(
            name="TicketDocument",
            fields=[
                (
                    "ticket",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="tickets.ticket",
                    ),
                ),
                ("document", django.contrib.postgres.search.SearchVectorField(null=True)),
                ("head", models.TextField(blank=True, default="")),
                ("last_entry_id", models.BigIntegerField(default=0)),
                ("entry_count", models.PositiveIntegerField(default=0)),
                ("indexed_chars", models.PositiveIntegerField(default=0)),
            ],
            options={
                "verbose_name": "search document",
                "verbose_name_plural": "search documents",
            },
        ),
        migrations.RunPython(create_fts5, drop_fts5, elidable=False),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="ticketdocument", index=_gin())],
            database_operations=[migrations.RunPython(create_gin, drop_gin, elidable=False)],
        ),
    ]
