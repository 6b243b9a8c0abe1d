"""Previous and next ticket in a queue, by keyset: two LIMIT 1 queries on the queue's own
ordering, never OFFSET and never "load the queue and find my index".

Works for any ordering a queue uses (plain columns, related columns such as user__name or
priority__urgency, ascending or descending, NULLs first or last) as long as each ordering
value can be read off the ticket in hand; the ticket page loads its ticket with the relations
queues sort by. The primary key is always the final tie-breaker, so the order is total and
no ticket is skipped or shown twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.db import connections
from django.db.models import F, Model, OrderBy, Q, QuerySet

from .models import Ticket


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool
    nulls_last: bool  # where NULLs sit in this key's direction
    nullable: bool = True
    nulls_default: bool = True  # the database puts NULLs there anyway (so ORDER BY need not say)


def _nullable(path: str) -> bool:
    """Can this (possibly related) column be NULL? A NOT NULL key needs no NULL cases, which
    keeps the keyset condition simple enough for the index."""
    model: type[Model] = Ticket
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if getattr(field, "null", False):
            return True
        if not field.is_relation:
            return False
        model = cast("type[Model]", field.related_model)  # a relation always has one
    return False


def sort_keys(qs: QuerySet[Ticket], annotations: dict[str, Any] | None = None) -> list[SortKey]:
    """The queryset's ordering as keys, ending with the primary key. `annotations` are the
    (unresolved) expressions of annotations the ordering names; a plain F() is followed to
    its column, anything else is taken as possibly NULL."""
    annotations = annotations or {}
    nulls_largest = connections[qs.db].features.nulls_order_largest
    keys: list[SortKey] = []
    for item in qs.query.order_by or Ticket._meta.ordering or ():
        descending = False
        nulls_first = nulls_last = None
        if isinstance(item, str):
            descending = item.startswith("-")
            name = item.lstrip("-+")
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            descending = item.descending
            name = _column(item.expression)
            nulls_first, nulls_last = item.nulls_first, item.nulls_last
        elif isinstance(item, F):
            name = _column(item)
        else:
            raise ValueError(f"cannot page by {item!r}")
        name = "id" if name == "pk" else name
        # The database's own placement: PostgreSQL sorts NULL as the largest value, SQLite as
        # the smallest; an index serves the ORDER BY only when we keep to it.
        default_last = nulls_largest != descending
        last = default_last if nulls_last is None and nulls_first is None else bool(nulls_last)
        expression = annotations.get(name)
        if expression is None:
            nullable = _nullable(name)
        else:
            nullable = _nullable(_column(expression)) if isinstance(expression, F) else True
        keys.append(SortKey(name, descending, last, nullable, last == default_last))
        if name == "id":
            break
    if not keys or keys[-1].field != "id":
        # Ties on the last key are broken by id in the same direction.
        descending = keys[-1].descending if keys else True
        keys.append(SortKey("id", descending, nulls_largest != descending, False, True))
    return keys


def _column(expression: F) -> str:
    # F keeps its argument as `name`; django-stubs does not declare the attribute.
    return cast(str, expression.name)  # type: ignore[attr-defined]


def _value(ticket: Ticket, field: str) -> Any:
    value: Any = ticket
    for part in field.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value


def _after(key: SortKey, value: Any) -> Q | None:
    """Rows that come after `value` on this key alone (None: no row can)."""
    name = key.field
    if value is None:
        return None if key.nulls_last else Q(**{f"{name}__isnull": False})
    beyond = Q(**{f"{name}__lt" if key.descending else f"{name}__gt": value})
    return beyond | Q(**{f"{name}__isnull": True}) if key.nulls_last and key.nullable else beyond


def _equal(key: SortKey, value: Any) -> Q:
    return Q(**{f"{key.field}__isnull": True}) if value is None else Q(**{key.field: value})


def _following(keys: list[SortKey], values: list[Any]) -> Q:
    """(k1 after v1) OR (k1 = v1 AND k2 after v2) OR ... — the rows after the anchor."""
    condition = Q(pk__in=[])
    prefix = Q()
    for key, value in zip(keys, values, strict=True):
        after = _after(key, value)
        if after is not None:
            condition |= prefix & after
        prefix &= _equal(key, value)
    return condition


def _reverse(keys: list[SortKey]) -> list[SortKey]:
    # Flipping the direction flips where NULLs sit, and the database default flips with it.
    return [SortKey(k.field, not k.descending, not k.nulls_last, k.nullable, k.nulls_default) for k in keys]


def _order_by(key: SortKey) -> OrderBy:
    if key.nulls_default or not key.nullable:
        return F(key.field).desc() if key.descending else F(key.field).asc()
    placement = {"nulls_last": True} if key.nulls_last else {"nulls_first": True}
    return F(key.field).desc(**placement) if key.descending else F(key.field).asc(**placement)


def _order(keys: list[SortKey]) -> list[OrderBy]:
    return [_order_by(k) for k in keys]


def _anchor(ticket: Ticket, keys: list[SortKey], annotations: dict[str, Any]) -> list[Any]:
    """The ticket's own value for each key: read off the ticket (and its loaded relations),
    or, for a computed annotation, asked of the database in one small query."""
    computed = {
        name: expression
        for name, expression in annotations.items()
        if not isinstance(expression, F) and any(k.field == name for k in keys)
    }
    found: dict[str, Any] = {}
    if computed:
        found = Ticket.objects.filter(pk=ticket.pk).annotate(**computed).values(*computed).first() or {}
    values = []
    for key in keys:
        expression = annotations.get(key.field)
        if key.field in computed:
            values.append(found.get(key.field))
        elif isinstance(expression, F):
            values.append(_value(ticket, _column(expression)))
        else:
            values.append(_value(ticket, key.field))
    return values


def neighbours(
    qs: QuerySet[Ticket], ticket: Ticket, annotations: dict[str, Any] | None = None
) -> tuple[Ticket | None, Ticket | None]:
    """(previous, next) ticket around `ticket` in `qs`'s order. `ticket` need not be in `qs`
    any more (it may have just left the queue): its neighbours are where it would sit.
    Pass the expressions of annotations the ordering uses (see sort_keys)."""
    annotations = annotations or {}
    keys = sort_keys(qs, annotations)
    values = _anchor(ticket, keys, annotations)
    base = qs.order_by().only("id", "number", "subject")
    following = base.filter(_following(keys, values)).order_by(*_order(keys)).first()
    back = _reverse(keys)
    preceding = base.filter(_following(back, values)).order_by(*_order(back)).first()
    return preceding, following
