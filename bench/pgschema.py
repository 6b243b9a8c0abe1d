"""Drop and rebuild the secondary indexes and constraints of the tables a bulk load fills.

Everything dropped is rebuilt from PostgreSQL's own definition of it (pg_get_indexdef,
pg_get_constraintdef) under the same name, and `snapshot` lets the caller prove that the
catalogue afterwards equals the catalogue before, i.e. exactly what the migrations made.
Primary keys and check constraints stay: ids are loaded in order, so the primary key index
only ever appends, and checks cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import monotonic

from psycopg import sql


@dataclass(frozen=True)
class Dropped:
    kind: str  # "index" | "unique" | "foreign key"
    table: str
    name: str
    definition: str


def snapshot(cursor, tables: Sequence[str]) -> set[tuple]:
    """Every index and constraint of `tables`, with its full definition."""
    cursor.execute(
        """
        SELECT 'index', tablename, indexname, indexdef
          FROM pg_indexes
         WHERE schemaname = current_schema() AND tablename = ANY(%s)
        UNION ALL
        SELECT 'constraint', rel.relname, con.conname,
               con.contype::text || ' ' || pg_get_constraintdef(con.oid) || ' deferrable=' || con.condeferrable
               || ' deferred=' || con.condeferred || ' validated=' || con.convalidated
          FROM pg_constraint con
          JOIN pg_class rel ON rel.oid = con.conrelid
          JOIN pg_namespace ns ON ns.oid = rel.relnamespace
         WHERE ns.nspname = current_schema() AND rel.relname = ANY(%s)
        """,
        [list(tables), list(tables)],
    )
    return set(cursor.fetchall())


def drop_secondary(cursor, tables: Sequence[str]) -> list[Dropped]:
    """Drop foreign keys, unique constraints and plain indexes of `tables`; return what to rebuild."""
    cursor.execute(
        """
        SELECT CASE con.contype WHEN 'f' THEN 'foreign key' ELSE 'unique' END, rel.relname, con.conname,
               pg_get_constraintdef(con.oid)
          FROM pg_constraint con
          JOIN pg_class rel ON rel.oid = con.conrelid
          JOIN pg_namespace ns ON ns.oid = rel.relnamespace
         WHERE ns.nspname = current_schema() AND rel.relname = ANY(%s) AND con.contype IN ('f', 'u')
         ORDER BY con.contype, rel.relname, con.conname
        """,
        [list(tables)],
    )
    constraints = [Dropped(*row) for row in cursor.fetchall()]
    cursor.execute(
        """
        SELECT 'index', tbl.relname, idx.relname, pg_get_indexdef(idx.oid)
          FROM pg_index x
          JOIN pg_class idx ON idx.oid = x.indexrelid
          JOIN pg_class tbl ON tbl.oid = x.indrelid
          JOIN pg_namespace ns ON ns.oid = tbl.relnamespace
         WHERE ns.nspname = current_schema() AND tbl.relname = ANY(%s) AND NOT x.indisprimary
           -- Partial indexes stay: PostgreSQL prints a rebuilt predicate differently (the same
           -- index, other text), which the before/after check would call a changed schema.
           AND x.indpred IS NULL
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)
         ORDER BY tbl.relname, idx.relname
        """,
        [list(tables)],
    )
    indexes = [Dropped(*row) for row in cursor.fetchall()]
    # Foreign keys first: a unique constraint cannot go while a key of ours still leans on it.
    ordered = sorted(constraints, key=lambda d: d.kind != "foreign key") + indexes
    for d in ordered:
        if d.kind == "index":
            cursor.execute(f'DROP INDEX "{d.name}"')
        else:
            cursor.execute(f'ALTER TABLE "{d.table}" DROP CONSTRAINT "{d.name}"')
    return ordered


def recreate(cursor, dropped: Sequence[Dropped], out: Callable[[str], None] | None = None) -> None:
    """Rebuild what drop_secondary dropped: indexes, then unique constraints, then foreign keys
    (which need the unique indexes they point at)."""
    order = {"index": 0, "unique": 1, "foreign key": 2}
    for d in sorted(dropped, key=lambda d: order[d.kind]):
        started = monotonic()
        if d.kind == "index":
            cursor.execute(d.definition)
        else:
            cursor.execute(f'ALTER TABLE "{d.table}" ADD CONSTRAINT "{d.name}" {d.definition}')
        elapsed = monotonic() - started
        if out is not None and elapsed >= 2:
            out(f"  {d.kind} {d.name}: {elapsed:.1f} s")


def truncate_if_empty(cursor, tables: Sequence[str]) -> bool:
    """TRUNCATE `tables` (and every table that references them) when all of them are empty, so
    that COPY … WITH (FREEZE) may write already-frozen rows in this transaction. Returns whether
    it did; with any row present nothing is touched."""
    closure, todo = set(tables), list(tables)
    while todo:
        cursor.execute(
            """
            SELECT DISTINCT src.relname
              FROM pg_constraint con
              JOIN pg_class src ON src.oid = con.conrelid
              JOIN pg_class dst ON dst.oid = con.confrelid
             WHERE con.contype = 'f' AND dst.relname = %s
            """,
            [todo.pop()],
        )
        for (name,) in cursor.fetchall():
            if name not in closure:
                closure.add(name)
                todo.append(name)
    for name in sorted(closure):
        cursor.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(name)))
        if cursor.fetchone()[0]:
            return False
    cursor.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, sorted(closure)))))
    return True
