"""Typed answers in and out: a form's cleaned value → `FieldValue` rows, rows → the value a form
starts from, rows → the one line a person reads (timeline, variables, panels).

Only the column of the field's type is written (models.FieldValue). Nothing here queries the
database: callers hand in the rows they read (with `item` selected).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ChoiceItem, Field, FieldType, FieldValue

Owner = models.Model  # a tickets.Ticket, an accounts.User or an accounts.Organization


def owner_column(owner: Owner) -> str:
    """The FieldValue column that points at `owner`."""
    label = owner._meta.label_lower
    if label == "tickets.ticket":
        return "ticket"
    if label == "accounts.organization":
        return "organization"
    if label == "accounts.user":
        return "user"
    raise TypeError(f"{label} cannot own answers to custom fields")


def is_empty(field: Field, value: object) -> bool:
    """An answer that stores no row. A checkbox's "no" is an answer (False), kept as a row."""
    if field.type == FieldType.CHECKBOX:
        return value is None
    if value is None or value == "":
        return True
    if field.is_multiple:
        return not list(value)  # type: ignore[call-overload]  # a sequence or queryset of items
    return False


def rows_for(field: Field, owner: Owner, value: object) -> list[FieldValue]:
    """Unsaved rows for `value` (a form's cleaned value for `field`); [] for no answer."""
    if is_empty(field, value):
        return []
    base: dict[str, Any] = {"field": field, owner_column(owner): owner, "updated_at": timezone.now()}
    kind = field.type
    if kind == FieldType.MULTIPLE_CHOICE:
        items = sorted({item.pk: item for item in value}.values(), key=_item_order)  # type: ignore[attr-defined]
        return [FieldValue(item=item, **base) for item in items]
    if kind in (FieldType.CHOICE, FieldType.LIST):
        return [FieldValue(item=cast(ChoiceItem, value), **base)]
    if kind == FieldType.NUMBER:
        return [FieldValue(number=Decimal(str(value)), **base)]
    if kind == FieldType.DATE:
        return [FieldValue(date=cast(date, value), **base)]
    if kind == FieldType.DATETIME:
        return [FieldValue(moment=cast(datetime, value), **base)]
    if kind == FieldType.CHECKBOX:
        return [FieldValue(flag=bool(value), **base)]
    return [FieldValue(text=str(value), **base)]


def _item_order(item: ChoiceItem) -> tuple[int, str, int]:
    return (item.order, item.label, item.pk)


def value_of(field: Field, rows: Sequence[FieldValue]) -> object:
    """What a form for `field` starts from, given its stored rows (item ids for choices)."""
    if not rows:
        return [] if field.is_multiple else None
    if field.is_multiple:
        return [row.item_id for row in rows]
    row = rows[0]
    kind = field.type
    if kind in (FieldType.CHOICE, FieldType.LIST):
        return row.item_id
    if kind == FieldType.NUMBER:
        return row.number
    if kind == FieldType.DATE:
        return row.date
    if kind == FieldType.DATETIME:
        return timezone.localtime(row.moment) if row.moment is not None else None
    if kind == FieldType.CHECKBOX:
        return row.flag
    return row.text


def comparable(field: Field, rows: Iterable[FieldValue]) -> tuple[str, ...]:
    """The stored answer reduced to plain strings, to tell whether an edit changes anything."""
    return tuple(sorted(_plain(field, _raw(field, row)) for row in rows))


def comparable_value(field: Field, value: object) -> tuple[str, ...]:
    """A form's cleaned value reduced like `comparable`."""
    if is_empty(field, value):
        return ()
    if field.is_multiple:
        return tuple(sorted({str(item.pk) for item in value}))  # type: ignore[attr-defined]
    if field.is_choice:
        return (str(getattr(value, "pk", value)),)
    if field.type == FieldType.CHECKBOX:
        return (_plain(field, bool(value)),)
    if field.type == FieldType.NUMBER:
        return (_plain(field, Decimal(str(value))),)
    return (_plain(field, value),)


def _plain(field: Field, raw: object) -> str:
    if isinstance(raw, Decimal):
        return format_number(raw)
    if isinstance(raw, datetime):
        return raw.astimezone(UTC).isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    return str(raw)


def _raw(field: Field, row: FieldValue) -> object:
    kind = field.type
    if field.is_choice:
        return row.item_id
    if kind == FieldType.NUMBER:
        return row.number
    if kind == FieldType.DATE:
        return row.date
    if kind == FieldType.DATETIME:
        return row.moment
    if kind == FieldType.CHECKBOX:
        return row.flag
    return row.text


def format_number(number: Decimal | None) -> str:
    """1.500000 → "1.5", 100 → "100" (never "1E+2")."""
    if number is None:
        return ""
    text = f"{number.normalize():f}"
    return text


def display(field: Field, rows: Sequence[FieldValue]) -> str:
    """The answer as one line of plain text (escaped where it is shown): the timeline's before
    and after, canned-response variables, people's panels. Times in UTC with their zone (the
    pages show them in the viewer's zone with `{% when %}` instead)."""
    if not rows:
        return ""
    kind = field.type
    if field.is_choice:
        return ", ".join(row.item.label for row in rows if row.item is not None)
    row = rows[0]
    if kind == FieldType.NUMBER:
        return format_number(row.number)
    if kind == FieldType.DATE:
        return row.date.isoformat() if isinstance(row.date, date) else ""
    if kind == FieldType.DATETIME:
        return _utc(row.moment)
    if kind == FieldType.CHECKBOX:
        return _("Yes") if row.flag else _("No")
    return row.text


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
