"""Answers given with a new ticket, through the core's `tickets/intake_hooks.py`.

`clean` runs with open_ticket's other checks: it validates the given values against the fields
asked for the topic, as the actor may answer them (an end user only the fields the end user
fills in; an agent every field), and ignores inputs that name no such field: a field the end
user may not edit, posted anyway, is dropped. `save` writes the rows inside the creating
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from . import rule_values
from .models import ChoiceItem, Field
from .rendering import ticket_fields_form
from .services import PREFIX, write_initial

if TYPE_CHECKING:
    from tessera.accounts.models import User
    from tessera.tickets.models import HelpTopic, Ticket


def _raw(value: object) -> object:
    """A value as a form would have received it (items as ids, dates as ISO text)."""
    if isinstance(value, ChoiceItem):
        return str(value.pk)
    if isinstance(value, list | tuple | set | frozenset):
        return [_raw(v) for v in value]
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | int | float):
        return str(value)
    if value is None:
        return ""
    return value


def clean(actor: User, topic: HelpTopic | None, values: Mapping[str, object]) -> Mapping[Any, object]:
    """{Field: typed answer} for the fields asked, or a ValidationError keyed by input name."""
    audience = "agent" if actor.is_agent else "user"
    data = {(key if key.startswith(PREFIX) else PREFIX + key): _raw(value) for key, value in values.items()}
    form = ticket_fields_form(topic, audience, data=data)
    if not form.is_valid():
        raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
    return form.answers()


def save(actor: User, ticket: Ticket, cleaned: Mapping[Any, object]) -> None:
    write_initial(ticket, {field: value for field, value in cleaned.items() if isinstance(field, Field)})


def describe(cleaned: Mapping[Any, object]) -> Mapping[str, tuple[str, ...]]:
    """The answers as the routing rules compare them (customfields/rule_values.py)."""
    return rule_values.from_cleaned(cleaned)
