"""`queryset.get(field=value)` whose SQL is compiled once per database connection.

Why: every API request reads its key by digest, and every ticket it opens reads its help topic
and its requester by address. Turning those querysets into SQL (the SELECT list of three joined
tables, the WHERE, the converters) cost more CPU than running them: about a fifth of a ticket
creation, the largest single share of a request (bench/RESULTS.md, issue 13). The statement is
the same every time; only the value differs.

`CompiledGet` compiles the statement the first time, through Django, records what Django's
compiler worked out (the SQL, its SELECT list and how rows map onto instances), and afterwards
hands Django's own row-to-instance code a compiler that replays the record with the new value.
So instances, `select_related` objects, `DoesNotExist` and `MultipleObjectsReturned` are exactly
what `.get()` gives, every statement still goes through the connection's cursor (query logging,
execute wrappers, `assertNumQueries`), and nothing is cached but SQL: each call reads the row.

Only plain shapes are recorded: an exact lookup on one concrete field, whose value Django
passes as one parameter. A shape that does not compile that way is answered by `.get()` itself
(`replays` says which), so a surprise costs speed, never correctness.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast
from weakref import WeakKeyDictionary

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet
from django.db.models.query import MAX_GET_RESULTS
from django.db.models.sql import Query
from django.db.models.sql.compiler import SQLCompiler


class _Recorded(NamedTuple):
    """What Django's compiler worked out for the statement, for one connection."""

    sql: str
    params: tuple[Any, ...]  # the statement's parameters, the looked-up value at `slot`
    slot: int
    select: Any
    klass_info: Any
    annotation_col_map: Any
    col_count: int
    converters: dict[int, Any]


class CompiledGet[M: Model]:
    """`base.get(<field>=value)`, compiled once per connection and replayed afterwards."""

    def __init__(self, base: QuerySet[M], field: str) -> None:
        if base.query.select_for_update or base.query.combinator or base.query.is_sliced:
            raise ValueError("CompiledGet records plain reads only")
        if base._prefetch_related_lookups:  # type: ignore[attr-defined]  # QuerySet has no public way to ask
            raise ValueError("CompiledGet does not prefetch")
        self._base = base
        self._lookup = field
        meta = base.model._meta
        self._field: Field[Any, Any] = cast("Field[Any, Any]", meta.pk if field == "pk" else meta.get_field(field))
        # Per connection object: a thread's own connection, whose vendor fixes the SQL and
        # whose operations the converters are bound to. None: this shape is not replayable.
        self._recorded: WeakKeyDictionary[BaseDatabaseWrapper, _Recorded | None] = WeakKeyDictionary()

    def get(self, value: object) -> M:
        using = self._base.db
        connection = connections[using]
        if connection not in self._recorded:
            self._recorded[connection] = self._record(connection, value)
        recorded = self._recorded[connection]
        if recorded is None:
            return self._base.get(**{self._lookup: value})
        params = list(recorded.params)
        params[recorded.slot] = self._field.get_db_prep_value(value, connection, prepared=False)
        query = _ReplayQuery(self._base.model, recorded, tuple(params))
        rows: list[M] = list(QuerySet(model=self._base.model, query=query, using=using))
        if len(rows) == 1:
            return rows[0]
        model: Any = self._base.model  # its DoesNotExist and MultipleObjectsReturned
        if not rows:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        count = len(rows) if len(rows) < MAX_GET_RESULTS else f"more than {MAX_GET_RESULTS - 1}"
        raise model.MultipleObjectsReturned(
            f"get() returned more than one {model._meta.object_name} -- it returned {count}!"
        )

    def replays(self, using: str | None = None) -> bool:
        """Whether calls on this connection replay a recorded statement (tests ask)."""
        return self._recorded.get(connections[using or self._base.db]) is not None

    def _record(self, connection: BaseDatabaseWrapper, value: object) -> _Recorded | None:
        """Compile the statement as `.get()` would, and keep it if the value is one parameter."""
        clone = self._base.filter(**{self._lookup: value}).order_by()
        clone.query.set_limits(high=MAX_GET_RESULTS)
        compiler = clone.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        prepared = self._field.get_db_prep_value(value, connection, prepared=False)
        # The value's slot: the one parameter equal to it and of its type (True == 1 in Python).
        slots = [i for i, p in enumerate(params) if type(p) is type(prepared) and p == prepared]
        if len(slots) != 1 or compiler.has_extra_select or compiler.annotation_col_map:
            return None
        fields = [s[0] for s in compiler.select[: compiler.col_count]]
        return _Recorded(
            sql=sql,
            params=tuple(params),
            slot=slots[0],
            select=compiler.select,
            klass_info=compiler.klass_info,
            annotation_col_map=compiler.annotation_col_map,
            col_count=compiler.col_count,
            converters=compiler.get_converters(fields),
        )


class _ReplayQuery(Query):
    """A query whose compiler replays a recorded statement instead of compiling one."""

    def __init__(self, model: type[Model], recorded: _Recorded, params: tuple[Any, ...]) -> None:
        super().__init__(model)
        self.recorded = recorded
        self.replay_params = params

    def get_compiler(
        self, using: str | None = None, connection: BaseDatabaseWrapper | None = None, elide_empty: bool = True
    ) -> SQLCompiler:
        connection = connection or connections[cast(str, using)]
        return _replaying(connection.ops.compiler("SQLCompiler"))(self, connection, using, elide_empty)


_replaying_classes: dict[type[SQLCompiler], type[SQLCompiler]] = {}


def _replaying(compiler: type[SQLCompiler]) -> type[SQLCompiler]:
    """The database's own compiler (its execute_sql and row reading), replaying a record."""
    made = _replaying_classes.get(compiler)
    if made is None:
        made = _replaying_classes[compiler] = type(f"Replaying{compiler.__name__}", (_Replay, compiler), {})
    return made


class _Replay(SQLCompiler):
    """Gives Django's row reading (ModelIterable) what `as_sql()` would have worked out."""

    query: _ReplayQuery

    def as_sql(self, with_limits: bool = True, with_col_aliases: bool = False) -> tuple[str, tuple[Any, ...]]:
        recorded = self.query.recorded
        self.select, self.klass_info = recorded.select, recorded.klass_info
        self.annotation_col_map = recorded.annotation_col_map
        self.col_count, self.has_extra_select = recorded.col_count, False  # recorded only without extra select
        return recorded.sql, self.query.replay_params

    def get_converters(self, expressions: Any) -> dict[int, Any]:
        return self.query.recorded.converters
