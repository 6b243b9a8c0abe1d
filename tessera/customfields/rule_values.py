"""Answers to custom fields as the routing rules compare them: texts by field key.

A choice is its item's label, a multiple choice one text per chosen item (a condition holds when
any of them does, as with several recipient addresses), a checkbox "yes" or "no" (in English
whatever the language, as rules are typed once for the desk), a number as written without
trailing zeros, a date as YYYY-MM-DD, a date and time as "YYYY-MM-DD HH:MM" in UTC, text as
given. An unanswered field has no texts: "equals" does not hold, "does not equal" does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .models import ChoiceItem, Field, FieldType, FieldValue
from .values import format_number

if TYPE_CHECKING:
    from tessera.tickets.models import Ticket


def texts(field: Field, value: object) -> tuple[str, ...]:
    """A cleaned answer (what the field's form gives) as texts."""
    if value is None or value == "":
        return ()
    if field.is_multiple:
        items: Iterable[Any] = value if isinstance(value, Iterable) and not isinstance(value, str) else [value]
        return tuple(item.label for item in items if isinstance(item, ChoiceItem))
    if isinstance(value, ChoiceItem):
        return (value.label,)
    if field.type == FieldType.CHECKBOX:
        return ("yes" if value else "no",)
    if isinstance(value, Decimal):
        return (format_number(value),)
    if isinstance(value, datetime):
        return (value.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),)
    if isinstance(value, date):
        return (value.isoformat(),)
    return (str(value),)


def from_cleaned(cleaned: Mapping[Any, object]) -> dict[str, tuple[str, ...]]:
    """{key: texts} for the answers of a new ticket, as the intake hook cleaned them."""
    return {field.key: texts(field, value) for field, value in cleaned.items() if isinstance(field, Field)}


def for_ticket(ticket: Ticket) -> dict[str, tuple[str, ...]]:
    """{key: texts} from a ticket's stored answers (the rule test page's "existing ticket"). One query."""
    found: dict[str, list[str]] = {}
    rows = FieldValue.objects.filter(ticket=ticket).select_related("field", "item").order_by("field_id", "id")
    for row in rows:
        field = row.field
        value: object
        if field.is_choice:
            value = row.item
        elif field.type == FieldType.NUMBER:
            value = row.number
        elif field.type == FieldType.DATE:
            value = row.date
        elif field.type == FieldType.DATETIME:
            value = row.moment
        elif field.type == FieldType.CHECKBOX:
            value = row.flag
        else:
            value = row.text
        found.setdefault(field.key, []).extend(texts(field, [value] if field.is_multiple else value))
    return {key: tuple(values) for key, values in found.items()}


def parse_sample(text: str) -> dict[str, tuple[str, ...]]:
    """The test page's "custom fields" box: one `key = value` a line; a key given on several
    lines (a multiple choice) has several texts."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            found.setdefault(key.strip(), []).append(value.strip())
    return {key: tuple(values) for key, values in found.items()}
