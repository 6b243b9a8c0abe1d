"""Single-row INSERTs that compile their SQL once per shape instead of once per save.

Why: CPU per API ticket (issue 13: 300 tickets/s on two cores). Each ticket opened through the
API saves a User, a Ticket, a ThreadEntry and an Event, and Django builds an InsertQuery and
compiles its SQL afresh for every one, though the statement is the same every time and only
the parameters differ (bench.api_profile: 15,876 -> 14,760 Python calls per ticket with this).

`CompiledInsert` keeps the statement per shape (model, database, the inserted and the returned
fields) and per row does only what Django's `SQLInsertCompiler` does per row: `pre_save`,
`get_db_prep_save`, execute through the connection's own cursor (so query logging, execute
wrappers and `assertNumQueries` see it) and the returned columns through their converters.

Whatever the cached statement could get wrong goes to Django's own `_do_insert`: raw saves
(fixtures), a vendor other than PostgreSQL or SQLite, a composite key, a field with a database
default, a generated field, a field that writes its own placeholder, and any value that is an
expression (`F()`, `Now()`, `Value(...)`). The first statement of each shape is compared with
Django's own compile of the same row; should they ever differ, the shape stays with Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Col
from django.db.models.sql.subqueries import InsertQuery

_VENDORS = frozenset({"postgresql", "sqlite"})
_UNSEEN = object()

Field = models.Field[Any, Any]


@dataclass(frozen=True, slots=True)
class _Shape:
    """One compiled single-row INSERT and the columns it reads back."""

    sql: str
    returning_params: tuple[Any, ...]
    returning_cols: tuple[Col, ...]


# (model, alias, vendor, inserted attnames, returned attnames) -> its statement, or None when
# Django's own path must serve that shape.
_shapes: dict[tuple[type[models.Model], str, str, tuple[str, ...], tuple[str, ...]], _Shape | None] = {}

compile_count = 0
"""Shapes compiled (or found unfit) by this process: a save that reuses a statement adds none."""


class CompiledInsert(models.Model):
    """Model mixin (no fields, no table): saving a new row reuses its INSERT statement."""

    class Meta:
        abstract = True

    def _do_insert(
        self,
        manager: models.Manager[Any],
        using: str,
        fields: Sequence[Field],
        returning_fields: Sequence[Field],
        raw: bool,
    ) -> list[Sequence[Any]]:
        connection = connections[using]
        model = manager.model  # not type(self): a multi-table child saves its parents' rows too
        key = (
            model,
            using,
            connection.vendor,
            tuple([f.attname for f in fields]),
            tuple([f.attname for f in returning_fields]),
        )
        shape = _shapes.get(key, _UNSEEN)
        values = None if raw or shape is None else _plain_values(self, fields)
        if values is not None and shape is _UNSEEN:
            shape = _shapes[key] = _compile(self, model, connection, fields, returning_fields)
        if values is None or not isinstance(shape, _Shape):
            return super()._do_insert(manager, using, fields, returning_fields, raw)  # type: ignore[misc,no-any-return]
        params = [
            field.get_db_prep_save(value, connection=connection) for field, value in zip(fields, values, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(shape.sql, (*params, *shape.returning_params))
            if not returning_fields:
                return []
            rows = connection.ops.fetch_returned_rows(cursor, shape.returning_params)
        return [_converted(row, shape.returning_cols, connection) for row in rows]


def _plain_values(obj: models.Model, fields: Sequence[Field]) -> list[Any] | None:
    """What SQLInsertCompiler.pre_save_val reads off `obj`, or None if a value is an expression
    (it needs Django's compile, which may also change the statement)."""
    values = []
    for field in fields:
        value = field.pre_save(obj, add=True)
        if hasattr(value, "resolve_expression") or hasattr(value, "as_sql"):
            return None
        values.append(value)
    return values


def _compile(
    obj: models.Model,
    model: type[models.Model],
    connection: BaseDatabaseWrapper,
    fields: Sequence[Field],
    returning_fields: Sequence[Field],
) -> _Shape | None:
    """The shape's statement, as SQLInsertCompiler.as_sql writes it for one row of plain values,
    checked against Django's own compile of `obj`; None if Django must keep this shape."""
    global compile_count
    compile_count += 1
    meta = model._meta
    if (
        connection.vendor not in _VENDORS
        or meta.is_composite_pk
        or not fields
        or (returning_fields and not connection.features.can_return_columns_from_insert)
        or any(
            f.has_db_default() or f.generated or hasattr(f, "get_placeholder_sql") or hasattr(f, "get_placeholder")
            for f in (*fields, *returning_fields)
        )
    ):
        return None
    ops = connection.ops
    parts = [
        f"{ops.insert_statement()} {ops.quote_name(meta.db_table)}",
        # Every field _save_table inserts is concrete, so it has a column.
        "({})".format(", ".join(ops.quote_name(cast(str, f.column)) for f in fields)),
        "VALUES ({})".format(", ".join(["%s"] * len(fields))),
    ]
    returning_sql, returning_params = ops.returning_columns(returning_fields) if returning_fields else ("", ())
    if returning_sql:
        parts.append(returning_sql)
    sql = " ".join(parts)
    # Django's compile of the same row, raw so that no field's pre_save runs a second time.
    query = InsertQuery(model)
    query.insert_values(fields, [obj], raw=True)
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = list(returning_fields)
    [(django_sql, _params)] = compiler.as_sql()
    if django_sql != sql or tuple(compiler.returning_params) != tuple(returning_params):
        return None
    return _Shape(sql, tuple(returning_params), tuple(f.get_col(meta.db_table) for f in returning_fields))


def _converted(row: Sequence[Any], cols: Sequence[Col], connection: BaseDatabaseWrapper) -> Sequence[Any]:
    """The returned row through each column's converters, as SQLCompiler.apply_converters does.

    Looked up per row, not cached: a backend's converters are bound to one thread's connection."""
    converted: list[Any] | None = None
    for position, col in enumerate(cols):
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if not converters:
            continue
        if converted is None:
            converted = list(row)
        value = converted[position]
        for converter in converters:
            value = converter(value, col, connection)
        converted[position] = value
    return row if converted is None else converted
