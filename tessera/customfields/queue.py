"""Custom ticket fields in the workspace queues: filters and optional columns.

A filter on a custom field is a semi-join, `EXISTS (SELECT 1 FROM FieldValue WHERE ticket_id =
ticket.id AND …)`, never a scan of a blob: "has item X or Y" is answered from the partial index
`cf_value_item_ticket` (item, ticket), a checkbox or a number/date range from the per-field
indexes (field, flag/number/date, ticket). Free text is not offered as a filter: "contains" has
no index to use on FieldValue.text (it would read every answer), so the search page is the way
to find words. Sorted by last update, a filter on a single item is instead a join to that item's
answers walked newest first (`FieldFilter.drives`, index `cf_value_item_sort` on the ticket's
`updated_at` copied onto each answer by customfields.sortkey): a rare item costs a page what a
common one does.

Query parameters (read by `tessera.staff.filters.QueueFilter`):

    cf_<key>       a choice, multiple-choice or list field: item ids, repeatable or comma-
                   separated, "any of"; a checkbox: "yes" or "no"
    cfmin_<key>    a number or date field: at least (numbers as 12.5, dates as YYYY-MM-DD)
    cfmax_<key>    … at most (a date: until the end of that day)
    cols=cf_<key>  the field as a queue column (any type)

The fields offered are read through a process memo (two queries at most every few seconds), so
a queue page's query count does not grow with them; the column values of one page of rows are
read in one query (`column_cells`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from tessera import process_memo

from .models import CHOICE_TYPES, Field, FieldType, FieldValue, Target
from .values import display

PARAM = "cf_"
MIN_PARAM = "cfmin_"
MAX_PARAM = "cfmax_"
PREFIXES = (PARAM, MIN_PARAM, MAX_PARAM)
MAX_ITEMS = 50  # per field, like the other repeatable filters
MAX_NUMBER = Decimal("1e14")  # FieldValue.number holds 20 digits, 6 after the point
# The ticket's updated_at as the answer a driving filter joins carries it (customfields.sortkey).
SORT_KEY = "field_values__ticket_updated_at"

# How each type is filtered: by items, yes/no, or a range. Text types are left out (see above).
ITEMS, FLAG, NUMBER, DATE = "items", "flag", "number", "date"
KINDS = {FieldType.CHECKBOX: FLAG, FieldType.NUMBER: NUMBER, FieldType.DATE: DATE} | {t: ITEMS for t in CHOICE_TYPES}


@dataclass(frozen=True)
class QueueField:
    """A ticket field as the queue offers it."""

    pk: int
    key: str
    label: str
    type: str
    retired: bool
    items: tuple[tuple[int, str], ...] = ()  # (id, label) in list order, retired items included
    list_shared: bool = False  # another ticket field draws on the same list

    @property
    def kind(self) -> str | None:
        """How it filters (None: not filterable, a column only)."""
        return KINDS.get(FieldType(self.type))

    @property
    def column(self) -> str:
        return PARAM + self.key

    def item_label(self, pk: int) -> str:
        return next((label for item_pk, label in self.items if item_pk == pk), f"#{pk}")


@process_memo.memo("customfields.Field", "customfields.ChoiceItem", "customfields.ChoiceList", "customfields.Form")
def ticket_fields() -> dict[str, QueueField]:
    """Every field of a ticket form by key (retired ones too: their answers stay on tickets),
    in form and field order. Two queries, at most every few seconds per process."""
    fields = list(
        Field.objects.filter(form__target=Target.TICKET)
        .select_related("choice_list")
        .prefetch_related("choice_list__items")
        .order_by("form__order", "form_id", "order", "id")
    )
    per_list: dict[int, int] = defaultdict(int)
    for field in fields:
        if field.choice_list_id is not None:
            per_list[field.choice_list_id] += 1
    found: dict[str, QueueField] = {}
    for field in fields:
        items: tuple[tuple[int, str], ...] = ()
        if field.type in CHOICE_TYPES and field.choice_list is not None:
            items = tuple((item.pk, item.label) for item in field.choice_list.items.all())
        shared = field.choice_list_id is not None and per_list[field.choice_list_id] > 1
        found[field.key] = QueueField(
            field.pk, field.key, field.label, field.type, field.retired_at is not None, items, shared
        )
    return found


def filterable() -> list[QueueField]:
    """The fields the filter form offers: active ones of a filterable type."""
    return [f for f in ticket_fields().values() if f.kind is not None and not f.retired]


@dataclass(frozen=True)
class FieldFilter:
    """One custom-field filter: items (any of), a yes/no, or a range."""

    field: QueueField
    items: tuple[int, ...] = ()
    flag: bool | None = None
    low: Decimal | date | None = None
    high: Decimal | date | None = None

    def q(self) -> Q:
        """The semi-join on the ticket's answers."""
        rows = FieldValue.objects.filter(ticket_id=OuterRef("pk"))
        if self.items:
            # An item belongs to one list, so the item alone names the field, and (item, ticket)
            # answers from the index alone; a list two ticket fields share needs the field too.
            rows = rows.filter(item_id__in=self.items)
            if self.field.list_shared:
                rows = rows.filter(field_id=self.field.pk)
        else:
            rows = rows.filter(field_id=self.field.pk)
            if self.flag is not None:
                rows = rows.filter(flag=self.flag)
            column = "number" if self.field.kind == NUMBER else "date"
            if self.low is not None:
                rows = rows.filter(**{f"{column}__gte": self.low})
            if self.high is not None:
                rows = rows.filter(**{f"{column}__lte": self.high})
            if self.low is None and self.high is None and self.flag is None:
                rows = rows.none()
        return Q(Exists(rows))

    @property
    def drives(self) -> bool:
        """Whether a queue sorted by last update can be read from this filter's side: joined to
        the one answer that carries the item, ordered by the answer's copy of the ticket's
        `updated_at` (index cf_value_item_sort), so a page walks that item's answers newest first
        however rare the item is, instead of every ticket of the queue.

        One item only: a ticket has at most one answer with a given item for a given field
        (constraint customfields_value_ticket_item), and one field per item (the field is named
        when two fields share the list; a field's list cannot change once it has answers), so
        the join adds no duplicate row. Several items would need the index's per-item orders
        merged, which the planner cannot do: they keep the semi-join."""
        return len(self.items) == 1

    def join(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        """`qs` (tickets) joined to the answer with this filter's item: the rows `q()` keeps,
        each once. Annotate with `SORT_KEY` after this, so the annotation reuses the join."""
        conditions: dict[str, Any] = {"field_values__item_id": self.items[0], f"{SORT_KEY}__isnull": False}
        if self.field.list_shared:
            conditions["field_values__field_id"] = self.field.pk
        return qs.filter(**conditions)

    def params(self) -> list[tuple[str, str]]:
        key = self.field.key
        out = [(PARAM + key, str(pk)) for pk in self.items]
        if self.flag is not None:
            out.append((PARAM + key, "yes" if self.flag else "no"))
        if self.low is not None:
            out.append((MIN_PARAM + key, _text(self.low)))
        if self.high is not None:
            out.append((MAX_PARAM + key, _text(self.high)))
        return out

    def describe(self, name: str, value: str) -> str:
        """A chip's words for one of `params()`."""
        label = self.field.label
        if name.startswith(MIN_PARAM):
            return _("%(field)s: at least %(value)s") % {"field": label, "value": value}
        if name.startswith(MAX_PARAM):
            return _("%(field)s: at most %(value)s") % {"field": label, "value": value}
        if self.flag is not None:
            return f"{label}: {_('yes') if self.flag else _('no')}"
        return f"{label}: {self.field.item_label(int(value))}"


def bound_text(value: Decimal | date | None) -> str:
    """A range bound as the filter form shows it ("" for none)."""
    return "" if value is None else _text(value)


def _text(value: Decimal | date) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return format(value.normalize(), "f")


def is_param(name: str) -> bool:
    return name.startswith(PREFIXES)


def param_names(params: Mapping[str, Any]) -> list[str]:
    return [name for name in params if isinstance(name, str) and is_param(name)]


def read(params: Mapping[str, Any], values: Any) -> tuple[list[FieldFilter], list[str]]:
    """The custom-field filters in `params` and what was wrong with the rest (one sentence
    each, for the page). `values(params, name)` lists a parameter's values (QueryDict or JSON)."""
    names = param_names(params)
    if not names:
        return [], []  # no custom-field filter: the fields are not even read
    fields = ticket_fields()
    errors: list[str] = []
    by_key: dict[str, dict[str, Any]] = {}
    for name in names:
        prefix = next(p for p in (MIN_PARAM, MAX_PARAM, PARAM) if name.startswith(p))
        key = name.removeprefix(prefix)
        raws = [part.strip() for v in values(params, name) for part in str(v).split(",") if part.strip()]
        if not raws:
            continue
        field = fields.get(key)
        if field is None or field.kind is None:
            errors.append(
                _("The filter on “%(key)s” was ignored: there is no such field to filter on.") % {"key": key[:80]}
            )
            continue
        spec = by_key.setdefault(key, {"field": field})
        if field.kind == ITEMS and prefix == PARAM:
            known = {pk for pk, _label in field.items}
            for raw in raws[:MAX_ITEMS]:
                pk = int(raw) if raw.isdecimal() and len(raw) <= 18 else None
                if pk is None or pk not in known:
                    errors.append(_bad(field, raw, _("there is no such choice")))
                elif pk not in spec.setdefault("items", []):
                    spec["items"].append(pk)
        elif field.kind == FLAG and prefix == PARAM:
            raw = raws[-1]
            if raw in ("yes", "no"):
                spec["flag"] = raw == "yes"
            else:
                errors.append(_bad(field, raw, _("use “yes” or “no”")))
        elif field.kind in (NUMBER, DATE) and prefix in (MIN_PARAM, MAX_PARAM):
            raw = raws[-1]
            bound = _bound(field.kind, raw)
            if bound is None:
                why = _("that is not a number") if field.kind == NUMBER else _("write the date as YYYY-MM-DD")
                errors.append(_bad(field, raw, why))
            else:
                spec["low" if prefix == MIN_PARAM else "high"] = bound
        else:
            errors.append(_bad(field, raws[-1], _("this field is not filtered that way")))
    filters = []
    for spec in by_key.values():
        items = tuple(spec.pop("items", ()))
        if items or len(spec) > 1:
            filters.append(FieldFilter(items=items, **spec))
    return filters, errors


def _bad(field: QueueField, raw: str, why: str) -> str:
    return _("%(field)s “%(value)s” was ignored: %(why)s.") % {"field": field.label, "value": raw[:80], "why": why}


def _bound(kind: str, raw: str) -> Decimal | date | None:
    if kind == DATE:
        try:
            return date.fromisoformat(raw) if len(raw) == 10 else None
        except ValueError:
            return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number) < MAX_NUMBER else None


def column_field(name: str) -> QueueField | None:
    """The field a `cols` entry names (`cf_<key>`), or None."""
    if not name.startswith(PARAM):
        return None
    return ticket_fields().get(name.removeprefix(PARAM))


def column_cells(ticket_ids: Sequence[int], columns: Iterable[str]) -> dict[int, dict[str, str]]:
    """{ticket id: {column name: the answer as one line}} for one page of rows, every chosen
    custom column present ("" unanswered). One query, whatever the page holds; none without
    custom columns."""
    chosen = {f.pk: f.column for name in columns if (f := column_field(name)) is not None}
    cells: dict[int, dict[str, str]] = {pk: dict.fromkeys(chosen.values(), "") for pk in ticket_ids}
    if not chosen or not ticket_ids:
        return cells
    grouped: dict[tuple[int, int], list[FieldValue]] = defaultdict(list)
    rows = (
        FieldValue.objects.filter(ticket_id__in=list(ticket_ids), field_id__in=list(chosen))
        .select_related("field", "item")
        .order_by("ticket_id", "field_id", "item__order", "item__label", "id")
    )
    for row in rows:
        grouped[(row.ticket_id, row.field_id)].append(row)  # type: ignore[index]  # ticket_id is set: filtered on it
    for (ticket_id, field_id), found in grouped.items():
        cells[ticket_id][chosen[field_id]] = display(found[0].field, found)
    return cells
