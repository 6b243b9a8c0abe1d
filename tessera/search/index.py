"""Keeping the search index current: one document per ticket.

A ticket's document holds, in order: its number and subject (weight A on PostgreSQL, the
"number" and "subject" columns in FTS5), its requester's name and email and its organisation
(weight B / "people"), and the text of every thread entry, messages, responses and internal
notes alike (weight D / "body"). Notes are searchable because only agents search; the
search page is permission-filtered like the queues.

**Text search configuration: 'simple', on purpose.** Both engines see words the same way:
runs of letters and digits, lower-cased, nothing stemmed or dropped. PostgreSQL's document is
built from the text with every other character turned into a space (`vector_sql`), and FTS5's
unicode61 tokenizer splits on the same characters. Why not 'english':

- a help desk receives mail in every language, and English stemming mangles the rest;
- agents search for codes more than prose: ticket numbers, error codes ("E1234", "0x8007"),
  product names ("Windows 11"), email addresses, which stemming and stop words damage ("IT",
  "On-call" and "A4" must stay findable, and "it", "on", "a" are English stop words);
- the default parser would keep "ken@example.com" or "v2.3" as single tokens on PostgreSQL
  while FTS5 splits them, so the same query would mean different things on the two databases;
  splitting on punctuation makes "ken@example.com" the phrase ken-example-com on both, and
  "example.com" finds it too;
- recall lost to stemming is won back with prefixes: "print*" finds printer, printing, prints.

**Kept current inside the service's transaction.** Services call `index_ticket(ticket.pk)`
whenever a ticket's subject, requester or thread entries change, so a reply is searchable the
moment it commits and a rolled-back reply never was. It must be cheap on a 200-entry ticket,
so it appends: the document row remembers the highest entry id folded in and how many entries
that was. New entries (id above it) are added to the existing document (PostgreSQL: tsvector
`||`, which shifts positions so phrases stay right; FTS5: the body column grows). The whole
document is rebuilt only when the header changed or the older entries are not what they were
(a merge moved entries in or out), which the entry count reveals. Entry ids only grow within a
ticket because every service writes entries under the ticket's row lock.

Known limit: renaming a user or an organisation does not touch their tickets' documents (there
can be thousands); `manage.py search_reindex` refreshes them.

**Bounded.** Each entry contributes at most MAX_ENTRY_CHARS characters and a ticket at most
MAX_BODY_CHARS, which keeps a PostgreSQL tsvector far below its 1 MB limit and a log pasted
into a reply from bloating the index. On PostgreSQL the write runs in a savepoint anyway: if
the engine still refuses the text, the reply goes through and the document keeps what it had.

**Bulk** (`rebuild`, used by `manage.py search_reindex`): set-based SQL per batch of ticket ids
(5,000 a statement, several statements at once on PostgreSQL with `workers`), so a million
tickets take minutes, not hours; into an empty table the GIN index is dropped first and built
once at the end. Measured on this 2-core machine while other jobs kept it busy (load average
about 9): 1,000,001 tickets (4.03 entries each) in 12 minutes with one worker, GIN build and
ANALYZE included; replacing documents in place ran at about 3,000 tickets a second with two.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.backends.utils import CursorWrapper

from tessera.tickets.models import Ticket

from .models import TicketDocument

log = logging.getLogger(__name__)

CONFIG = "simple"
MAX_ENTRY_CHARS = 20_000
MAX_BODY_CHARS = 200_000
BATCH_SIZE = 5_000
# FTS5 snippet()/highlight() markers. Stored text has them turned into spaces, so a message
# cannot forge a highlight.
MARK_START, MARK_END = "\x02", "\x03"
HEAD_SEPARATOR = "\x1f"

# --------------------------------------------------------------------------- schema (frozen copies in migration 0001)

PG_GIN_INDEX = "search_document_gin"
FTS5_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "number, subject, people, body, tokenize = 'unicode61 remove_diacritics 0')"
)
FTS5_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS search_document_deleted AFTER DELETE ON search_ticketdocument "
    "BEGIN DELETE FROM search_fts WHERE rowid = old.ticket_id; END"
)


# ASCII punctuation that PostgreSQL's parser would otherwise glue into tokens (emails, hosts,
# URLs, paths, versions, hyphenated words, tags, entities). Turned into spaces, the parser
# sees runs of letters and digits, as FTS5 does; translate() is about twice as fast as
# regexp_replace('[^[:alnum:]]+') with the same result. '%' is left out (the parser drops it
# anyway) so the SQL needs no escaping for parameter substitution.
SPLIT_CHARS = "!\"#$&'()*+,-./:;<=>?@[\\]^_`{|}~"


def vector_sql(expr: str) -> str:
    """SQL for the tsvector of the text `expr`: words are runs of letters and digits, as FTS5
    sees them (see the module docstring)."""
    chars = SPLIT_CHARS.replace("'", "''")
    return f"to_tsvector('{CONFIG}', translate({expr}, '{chars}', '{' ' * len(SPLIT_CHARS)}'))"


# PostgreSQL refuses a tsvector whose lexemes take more than 1 MB ("string is too long for
# tsvector"); every other oddity of the text (a word too long, a position past 16,383) is
# dropped or clamped with a notice. vector_sql turns punctuation into spaces first, so each
# lexeme is a lower-cased word of the text, stored once: at most 4 bytes a character, 6 if
# lower-casing grows a letter. Text under a twelfth of the limit in characters cannot reach it.
TSVECTOR_MAX_BYTES = 1_048_575


def _always_fits(chars: int) -> bool:
    return chars * 12 < TSVECTOR_MAX_BYTES


def _document_sql(head: str, people: str, body: str) -> str:
    return f"setweight({vector_sql(head)}, 'A') || setweight({vector_sql(people)}, 'B') || {vector_sql(body)}"


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def ensure_schema() -> None:
    """Recreate what migration 0001 made if it went missing (a dropped GIN index or FTS5 table)."""
    with connection.cursor() as cursor:
        if is_postgresql():
            # CREATE INDEX (even IF NOT EXISTS) refuses to run while the transaction has
            # deferred foreign-key checks pending (rows just written): look first, and when it
            # must be built, run those checks now.
            cursor.execute("SELECT to_regclass(%s) IS NULL", [PG_GIN_INDEX])
            if cursor.fetchone()[0]:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"CREATE INDEX {PG_GIN_INDEX} ON search_ticketdocument USING gin (document)")
        else:
            cursor.execute(FTS5_CREATE)
            cursor.execute(FTS5_TRIGGER)


# --------------------------------------------------------------------------- one ticket


@dataclass(frozen=True)
class _State:
    number: int
    subject: str
    people: str
    has_document: bool
    head: str
    last_entry_id: int
    entry_count: int
    indexed_chars: int
    older_entries: int  # entries on the ticket now whose id is <= last_entry_id
    newer_entries: int = 0  # and those above it, not in the document yet

    @property
    def new_head(self) -> str:
        return HEAD_SEPARATOR.join((str(self.number), self.subject, self.people))

    @property
    def appendable(self) -> bool:
        return self.has_document and self.head == self.new_head and self.older_entries == self.entry_count


def _people(name: str, email: str, org: str | None) -> str:
    # Mirrors the bulk SQL: name || ' ' || email || coalesce(' ' || org, '').
    return f"{name} {email}" + (f" {org}" if org is not None else "")


# The ticket's header, its document's bookkeeping and how many of its entries the document
# already covers, in one statement. Hand-written because the ORM spent several milliseconds
# compiling its equivalent on every reply, more than the database spent running it.
_LOAD_SQL = """
SELECT t.number, t.subject, u.name, u.email, coalesce(o.name, uo.name),
       d.ticket_id, d.head, d.last_entry_id, d.entry_count, d.indexed_chars,
       (SELECT count(*) FROM tickets_threadentry e WHERE e.ticket_id = t.id AND e.id <= d.last_entry_id),
       (SELECT count(*) FROM tickets_threadentry e WHERE e.ticket_id = t.id AND e.id > coalesce(d.last_entry_id, 0))
FROM tickets_ticket t
JOIN accounts_user u ON u.id = t.user_id
LEFT JOIN accounts_organization o ON o.id = t.organization_id
LEFT JOIN accounts_organization uo ON uo.id = u.organization_id
LEFT JOIN search_ticketdocument d ON d.ticket_id = t.id
WHERE t.id = %s
"""


def _load(ticket_id: int) -> _State | None:
    with connection.cursor() as cursor:
        cursor.execute(_LOAD_SQL, [ticket_id])
        row = cursor.fetchone()
    if row is None:
        return None
    number, subject, name, email, org, doc_id, head, last_id, count, chars, older_n, newer_n = row
    return _State(
        number=number,
        subject=subject,
        people=_people(name, email, org),
        has_document=doc_id is not None,
        head=head or "",
        last_entry_id=last_id or 0,
        entry_count=count or 0,
        indexed_chars=chars or 0,
        older_entries=older_n or 0,
        newer_entries=newer_n or 0,
    )


def _entries_after(ticket_id: int, after: int) -> list[tuple[int, str]]:
    """(id, text) of the ticket's entries with ids above `after`, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, body_text FROM tickets_threadentry WHERE ticket_id = %s AND id > %s ORDER BY id",
            [ticket_id, after],
        )
        return list(cursor.fetchall())


def _clean(text: str) -> str:
    return text.replace(MARK_START, " ").replace(MARK_END, " ")


def _joined(texts: list[str], budget: int) -> str:
    """Entry texts as the bulk SQL joins them: each capped, newline-separated, the whole capped."""
    return "\n".join(_clean(t[:MAX_ENTRY_CHARS]) for t in texts)[: max(budget, 0)]


def index_ticket(ticket_id: int, written: tuple[int, str] | None = None) -> None:
    """Bring one ticket's search document up to date. Call it inside the transaction that
    changed the ticket's subject, requester or entries: a reply costs two small queries (state,
    one UPDATE; on PostgreSQL inside a savepoint), however long the thread is. `written`: the
    (id, text) of the entry the caller just wrote, which spares reading it back when it is the
    only one the document lacks."""
    state = _load(ticket_id)
    if state is None:
        return
    backend = _backend()
    if state.appendable:
        if written is not None and state.newer_entries == 1 and written[0] > state.last_entry_id:
            new = [written]
        else:
            new = _entries_after(ticket_id, state.last_entry_id)
        if not new:
            return
        separator = "\n" if state.indexed_chars else ""
        text = _joined([t for _pk, t in new], MAX_BODY_CHARS - state.indexed_chars - len(separator))
        text = separator + text if text else ""
        if backend.append(
            ticket_id,
            text,
            last_entry_id=new[-1][0],
            entry_count=state.entry_count + len(new),
            indexed_chars=state.indexed_chars + len(text),
        ):
            return
    entries = _entries_after(ticket_id, 0)
    body = _joined([t for _pk, t in entries], MAX_BODY_CHARS)
    backend.replace(
        ticket_id,
        state,
        body,
        last_entry_id=entries[-1][0] if entries else 0,
        entry_count=len(entries),
        indexed_chars=len(body),
    )


def index_new_ticket(ticket: Ticket, first_entry_id: int, first_entry_text: str) -> None:
    """The document of a ticket just opened, from what the caller has in hand (open_ticket:
    the ticket, its requester and organisation, its first entry), so nothing is read back."""
    org = ticket.organization or ticket.user.organization
    state = _State(
        number=ticket.number,
        subject=ticket.subject,
        people=_people(ticket.user.name, ticket.user.email, org.name if org is not None else None),
        has_document=False,
        head="",
        last_entry_id=0,
        entry_count=0,
        indexed_chars=0,
        older_entries=0,
    )
    body = _joined([first_entry_text], MAX_BODY_CHARS)
    _backend().replace(ticket.pk, state, body, last_entry_id=first_entry_id, entry_count=1, indexed_chars=len(body))


class _Backend:
    def append(self, ticket_id: int, text: str, **bookkeeping: int) -> bool:
        """Add `text` to the document; False when there is no stored document to add to."""
        raise NotImplementedError

    def replace(self, ticket_id: int, state: _State, body: str, **bookkeeping: int) -> None:
        raise NotImplementedError


class _Postgres(_Backend):
    """One statement per write, in a savepoint: if PostgreSQL refuses the text (the tsvector
    limits), the caller's reply still commits and the document keeps what it had. A new
    ticket's document whose text cannot reach those limits (`_always_fits`: nearly all) is
    written without the savepoint, which cost two of its creation's nineteen statements."""

    def append(self, ticket_id: int, text: str, **bookkeeping: int) -> bool:
        sql = (
            f"UPDATE search_ticketdocument SET document = document || {vector_sql('%s')}, "  # noqa: S608  formats a constant SQL snippet; values are parameters
            "last_entry_id = %s, entry_count = %s, indexed_chars = %s WHERE ticket_id = %s"
        )
        params = [text, bookkeeping["last_entry_id"], bookkeeping["entry_count"], bookkeeping["indexed_chars"]]
        return self._guarded(ticket_id, sql, [*params, ticket_id], bookkeeping) != 0

    def replace(self, ticket_id: int, state: _State, body: str, **bookkeeping: int) -> None:
        sql = (
            "INSERT INTO search_ticketdocument "  # noqa: S608  formats a constant SQL snippet; values are parameters
            "(ticket_id, document, head, last_entry_id, entry_count, indexed_chars) "
            f"VALUES (%s, {_document_sql('%s', '%s', '%s')}, %s, %s, %s, %s) "
            "ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document, head = EXCLUDED.head, "
            "last_entry_id = EXCLUDED.last_entry_id, entry_count = EXCLUDED.entry_count, "
            "indexed_chars = EXCLUDED.indexed_chars"
        )
        params: list[Any] = [
            ticket_id,
            f"{state.number} {state.subject}",
            state.people,
            body,
            state.new_head,
            bookkeeping["last_entry_id"],
            bookkeeping["entry_count"],
            bookkeeping["indexed_chars"],
        ]
        if _always_fits(len(params[1]) + len(state.people) + len(body)):
            # Nothing PostgreSQL could refuse: no savepoint, two statements fewer per new ticket.
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
            return
        if self._guarded(ticket_id, sql, params, bookkeeping) is None:
            # Keep the ticket findable by number, subject and people at least.
            self._guarded(ticket_id, sql, [*params[:3], "", *params[4:]], bookkeeping)

    @staticmethod
    def _guarded(ticket_id: int, sql: str, params: list[Any], bookkeeping: dict[str, int]) -> int | None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
                rowcount: int = cursor.rowcount
                return rowcount
        except DatabaseError:
            log.exception("Search document of ticket %s not updated; manage.py search_reindex retries", ticket_id)
        # Remember the entries as seen and the budget as spent, so the next reply does not
        # fail the same way.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE search_ticketdocument SET last_entry_id = %s, entry_count = %s, indexed_chars = %s "
                "WHERE ticket_id = %s",
                [bookkeeping["last_entry_id"], bookkeeping["entry_count"], MAX_BODY_CHARS, ticket_id],
            )
        return None


class _SQLite(_Backend):
    def append(self, ticket_id: int, text: str, **bookkeeping: int) -> bool:
        with connection.cursor() as cursor:
            if text:
                cursor.execute("UPDATE search_fts SET body = body || %s WHERE rowid = %s", [text, ticket_id])
                if cursor.rowcount == 0:
                    return False  # the FTS5 row is missing (a table recreated empty): rebuild it
            self._bookkeep(cursor, ticket_id, None, bookkeeping)
        return True

    def replace(self, ticket_id: int, state: _State, body: str, **bookkeeping: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM search_fts WHERE rowid = %s", [ticket_id])
            cursor.execute(
                "INSERT INTO search_fts (rowid, number, subject, people, body) VALUES (%s, %s, %s, %s, %s)",
                [ticket_id, str(state.number), _clean(state.subject), _clean(state.people), body],
            )
            self._bookkeep(cursor, ticket_id, state.new_head, bookkeeping)

    @staticmethod
    def _bookkeep(cursor: CursorWrapper, ticket_id: int, head: str | None, bookkeeping: dict[str, int]) -> None:
        values = [bookkeeping["last_entry_id"], bookkeeping["entry_count"], bookkeeping["indexed_chars"]]
        if head is None:
            cursor.execute(
                "UPDATE search_ticketdocument SET last_entry_id = %s, entry_count = %s, indexed_chars = %s "
                "WHERE ticket_id = %s",
                [*values, ticket_id],
            )
        else:
            cursor.execute(
                "INSERT INTO search_ticketdocument "
                "(ticket_id, document, head, last_entry_id, entry_count, indexed_chars) "
                "VALUES (%s, NULL, %s, %s, %s, %s) ON CONFLICT (ticket_id) DO UPDATE SET head = excluded.head, "
                "last_entry_id = excluded.last_entry_id, entry_count = excluded.entry_count, "
                "indexed_chars = excluded.indexed_chars",
                [ticket_id, head, *values],
            )


def _backend() -> _Backend:
    return _Postgres() if is_postgresql() else _SQLite()


# --------------------------------------------------------------------------- every ticket

# One batch of tickets (ids lo..hi), set-based. The same text rules as index_ticket: entries in
# id order, each capped, newline-joined, the whole capped; people = name email [organisation].
_PG_BULK = f"""
INSERT INTO search_ticketdocument (ticket_id, document, head, last_entry_id, entry_count, indexed_chars)
SELECT t.id,
       {_document_sql("t.number::text || ' ' || t.subject", "p.people", "coalesce(e.body, '')")},
       t.number::text || chr(31) || t.subject || chr(31) || p.people,
       coalesce(e.last_id, 0), coalesce(e.n, 0), coalesce(length(e.body), 0)
FROM tickets_ticket t
JOIN accounts_user u ON u.id = t.user_id
LEFT JOIN accounts_organization o ON o.id = coalesce(t.organization_id, u.organization_id)
CROSS JOIN LATERAL (SELECT u.name || ' ' || u.email || coalesce(' ' || o.name, '') AS people) p
LEFT JOIN (
    SELECT ticket_id, max(id) AS last_id, count(*) AS n,
           left(string_agg(left(translate(body_text, chr(2) || chr(3), '  '), {MAX_ENTRY_CHARS}), chr(10) ORDER BY id),
                {MAX_BODY_CHARS}) AS body
    FROM tickets_threadentry WHERE ticket_id BETWEEN %s AND %s GROUP BY ticket_id
) e ON e.ticket_id = t.id
WHERE t.id BETWEEN %s AND %s
ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document, head = EXCLUDED.head,
    last_entry_id = EXCLUDED.last_entry_id, entry_count = EXCLUDED.entry_count, indexed_chars = EXCLUDED.indexed_chars
"""  # noqa: S608  formats only constants; the ids are parameters

_SQLITE_BATCH = f"""
SELECT t.id AS ticket_id, CAST(t.number AS TEXT) AS number, t.subject AS subject,
       u.name || ' ' || u.email || coalesce(' ' || o.name, '') AS people,
       coalesce(e.body, '') AS body, coalesce(e.last_id, 0) AS last_id, coalesce(e.n, 0) AS n
FROM tickets_ticket t
JOIN accounts_user u ON u.id = t.user_id
LEFT JOIN accounts_organization o ON o.id = coalesce(t.organization_id, u.organization_id)
LEFT JOIN (
    SELECT ticket_id, max(id) AS last_id, count(*) AS n,
           substr(group_concat(substr(replace(replace(body_text, char(2), ' '), char(3), ' '), 1, {MAX_ENTRY_CHARS}),
                               char(10)), 1, {MAX_BODY_CHARS}) AS body
    FROM (SELECT ticket_id, id, body_text FROM tickets_threadentry
          WHERE ticket_id BETWEEN %s AND %s ORDER BY ticket_id, id)
    GROUP BY ticket_id
) e ON e.ticket_id = t.id
WHERE t.id BETWEEN %s AND %s
"""  # noqa: S608  formats only constants; the ids are parameters
_SQLITE_BULK = [
    "DELETE FROM search_fts WHERE rowid BETWEEN %s AND %s",
    f"INSERT INTO search_fts (rowid, number, subject, people, body) "  # noqa: S608  formats only constants
    f"SELECT ticket_id, number, subject, people, body FROM ({_SQLITE_BATCH})",
    "INSERT INTO search_ticketdocument (ticket_id, document, head, last_entry_id, entry_count, indexed_chars) "  # noqa: S608  formats only constants
    "SELECT ticket_id, NULL, number || char(31) || subject || char(31) || people, last_id, n, length(body) "
    f"FROM ({_SQLITE_BATCH}) WHERE true "
    "ON CONFLICT (ticket_id) DO UPDATE SET head = excluded.head, last_entry_id = excluded.last_entry_id, "
    "entry_count = excluded.entry_count, indexed_chars = excluded.indexed_chars",
]


def index_range(low: int, high: int) -> None:
    """(Re)build the documents of tickets low..high (ids, inclusive) in a few set-based statements."""
    with connection.cursor() as cursor:
        if is_postgresql():
            cursor.execute(_PG_BULK, [low, high, low, high])
        else:
            cursor.execute(_SQLITE_BULK[0], [low, high])
            cursor.execute(_SQLITE_BULK[1], [low, high, low, high])
            cursor.execute(_SQLITE_BULK[2], [low, high, low, high])


def _start_fresh() -> None:
    """Empty the index and take the GIN index away, so loading is one pass and the GIN index
    is built once at the end (far faster than maintaining it row by row)."""
    with connection.cursor() as cursor:
        if is_postgresql():
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE, like CREATE INDEX, needs no checks pending
            cursor.execute(f"DROP INDEX IF EXISTS {PG_GIN_INDEX}")
            cursor.execute("TRUNCATE search_ticketdocument")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS search_document_deleted")
            cursor.execute("DROP TABLE IF EXISTS search_fts")
            cursor.execute("DELETE FROM search_ticketdocument")
            cursor.execute(FTS5_CREATE)
            cursor.execute(FTS5_TRIGGER)


def _finish() -> None:
    with connection.cursor() as cursor:
        if is_postgresql():
            with transaction.atomic():
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                ensure_schema()
            cursor.execute("ANALYZE search_ticketdocument")
        else:
            ensure_schema()
            cursor.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")


def _batches(batch_size: int) -> Iterator[tuple[int, int, int]]:
    """(first id, last id, how many) for consecutive batches of existing ticket ids."""
    last = 0
    while True:
        ids = list(Ticket.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        yield ids[0], ids[-1], len(ids)
        last = ids[-1]


def _index_batch(low: int, high: int, *, own_connection: bool) -> None:
    try:
        with transaction.atomic():
            index_range(low, high)
    finally:
        if own_connection:
            connection.close()  # this worker thread's connection


def rebuild(
    *,
    fresh: bool | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild every ticket's search document, `batch_size` tickets per transaction, and
    return how many were indexed. `progress(done, total)` is called after every batch.

    `fresh` empties the index first and (PostgreSQL) builds the GIN index once at the end:
    the fast way for a new or broken index, but search finds nothing until it is done. Without
    it, documents are replaced batch by batch and search keeps working throughout. By default
    the index is rebuilt fresh when it is empty anyway.

    `workers` > 1 indexes that many batches at once on their own connections (PostgreSQL does
    one statement on one core); ignored inside a transaction, whose data other connections
    cannot see."""
    if fresh is None:
        fresh = not TicketDocument.objects.exists()
    with transaction.atomic():
        if fresh:
            _start_fresh()
        else:
            ensure_schema()
    total = Ticket.objects.count()
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress(done, max(total, done))

    if workers <= 1 or connection.in_atomic_block or not is_postgresql():
        for low, high, count in _batches(batch_size):
            _index_batch(low, high, own_connection=False)
            advance(count)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending = {
                pool.submit(_index_batch, low, high, own_connection=True): count
                for low, high, count in _batches(batch_size)
            }
            for future in as_completed(pending):
                future.result()
                advance(pending[future])
    _finish()
    return done
