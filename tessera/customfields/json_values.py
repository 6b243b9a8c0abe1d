"""Answers to custom fields as typed JSON, for the REST API (and the osTicket drop-in).

Out: text types as strings, numbers as JSON numbers, dates and times as ISO 8601 strings
(times in UTC), a checkbox as a boolean, a choice or list as its item's label, a multiple
choice as a list of labels. In: the same shapes (a choice by its label, case-insensitive, or by
its item id), turned into what the fields' forms take, so a value is checked by exactly the rules
of the portal and the ticket page (tessera/customfields/rendering.py).

Reads cost one query for any number of owners (a page of tickets).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.db_keys import is_key

from .models import Audience, ChoiceItem, Field, FieldType, FieldValue, Target
from .rendering import fields_form
from .selectors import asked, forms_for_ticket
from .services import PREFIX
from .values import Owner, owner_column

JsonValue = str | int | float | bool | list[str] | None


def json_value(field: Field, rows: Sequence[FieldValue]) -> JsonValue:
    """One field's stored answer as JSON (None unanswered)."""
    if not rows:
        return [] if field.is_multiple else None
    if field.is_multiple:
        return [row.item.label for row in rows if row.item is not None]
    row = rows[0]
    kind = field.type
    if field.is_choice:
        return row.item.label if row.item is not None else None
    if kind == FieldType.NUMBER:
        return _number(row.number)
    if kind == FieldType.DATE:
        return row.date.isoformat() if isinstance(row.date, date) else None
    if kind == FieldType.DATETIME:
        return row.moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if row.moment else None
    if kind == FieldType.CHECKBOX:
        return bool(row.flag)
    return row.text


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def values_of(owners: Iterable[Owner], *, end_user: bool = False) -> dict[int, dict[str, JsonValue]]:
    """{owner id: {key: value}} for owners of one kind (tickets, users or organisations):
    every answered field, retired ones included; `end_user` leaves out what only agents see.
    One query (none for no owners)."""
    owners = list(owners)
    found: dict[int, dict[str, JsonValue]] = {owner.pk: {} for owner in owners}
    if not owners:
        return found
    column = owner_column(owners[0])
    rows = FieldValue.objects.filter(**{f"{column}_id__in": list(found)}).select_related("field", "item")
    if end_user:
        rows = rows.exclude(field__audience=Audience.AGENTS)
    grouped: dict[tuple[int, int], list[FieldValue]] = defaultdict(list)
    for row in rows.order_by("field__order", "field_id", "item__order", "item__label", "id"):
        grouped[(getattr(row, f"{column}_id"), row.field_id)].append(row)
    for (owner_id, _field_id), answer in grouped.items():
        found[owner_id][answer[0].field.key] = json_value(answer[0].field, answer)
    return found


def values_for(owner: Owner, *, end_user: bool = False) -> dict[str, JsonValue]:
    return values_of([owner], end_user=end_user)[owner.pk]


# ---------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Definition:
    key: str
    label: str
    type: str
    target: str
    required: bool
    audience: str
    help_text: str
    retired: bool
    choices: list[str]
    form: str
    topic_ids: list[int]
    for_all_tickets: bool


def definitions(target: str | None = None, *, end_user: bool = False) -> list[Definition]:
    """Every field of an active form (retired fields flagged), with the labels it accepts.
    `end_user` leaves out agent-only fields. Four queries."""
    fields = (
        Field.objects.filter(form__is_active=True)
        .select_related("form", "choice_list")
        .prefetch_related("choice_list__items", "form__topics")
        .order_by("form__target", "form__order", "form_id", "order", "id")
    )
    if target is not None:
        fields = fields.filter(form__target=target)
    if end_user:
        fields = fields.exclude(audience=Audience.AGENTS)
    return [
        Definition(
            key=f.key,
            label=f.label,
            type=f.type,
            target=f.form.target,
            required=f.required,
            audience=f.audience,
            help_text=f.help_text,
            retired=f.retired_at is not None,
            choices=[i.label for i in f.choice_list.items.all() if i.is_active]
            if f.is_choice and f.choice_list
            else [],
            form=f.form.title,
            topic_ids=[t.pk for t in f.form.topics.all()],
            for_all_tickets=f.form.for_all_tickets,
        )
        for f in fields
    ]


# ---------------------------------------------------------------------------- in


def _items_by_label(fields: Iterable[Field]) -> dict[int, dict[str, int]]:
    """{choice list id: {folded label: item id}} for the lists of `fields`. One query."""
    lists = {f.choice_list_id for f in fields if f.is_choice and f.choice_list_id is not None}
    found: dict[int, dict[str, int]] = defaultdict(dict)
    if lists:
        for pk, list_id, label in ChoiceItem.objects.filter(choice_list_id__in=lists).values_list(
            "pk", "choice_list_id", "label"
        ):
            found[list_id][label.casefold()] = pk
    return found


def form_input(fields: Mapping[str, Field], values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(form data named `cf_<key>`, {key: why it cannot be read}) for JSON `values` of known
    `fields`. Shapes only: the form checks the rest (required, ranges, patterns, offered items)."""
    labels = _items_by_label(fields.values())
    data: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for key, value in values.items():
        field = fields[key]
        try:
            data[PREFIX + key] = _raw(field, value, labels.get(field.choice_list_id or 0, {}))
        except ValueError as exc:
            problems[key] = str(exc)
    return data, problems


def _raw(field: Field, value: Any, labels: Mapping[str, int]) -> Any:
    if value is None:
        return [] if field.is_multiple else ""
    if field.is_multiple:
        if not isinstance(value, list):
            raise ValueError(_("Give a list of choices."))
        return [_choice(v, labels) for v in value]
    if field.is_choice:
        return _choice(value, labels)
    kind = field.type
    if kind == FieldType.CHECKBOX:
        if not isinstance(value, bool):
            raise ValueError(_("Give true or false."))
        return "on" if value else ""
    if kind == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(_("Give a number."))
        return str(value)
    if not isinstance(value, str):
        raise ValueError(_("Give the answer as text.") if kind not in (FieldType.DATE, FieldType.DATETIME) else _date())
    if kind == FieldType.DATETIME:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(_date()) from None
        if moment.tzinfo is not None:
            # The form reads a naive time in the current zone.
            moment = moment.astimezone(timezone.get_current_timezone()).replace(tzinfo=None)
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return value


def _date() -> str:
    return _("Give the date as YYYY-MM-DD (a date and time as ISO 8601, e.g. 2026-01-31T14:00:00Z).")


def _choice(value: Any, labels: Mapping[str, int]) -> str:
    if isinstance(value, bool):
        raise ValueError(_("Give a choice by its label."))
    if isinstance(value, int):
        if not is_key(value):  # a database key holds no more; the form would not be asked
            raise ValueError(_("“%(value)s” is not one of the choices.") % {"value": value})
        return str(value)
    if isinstance(value, str):
        pk = labels.get(value.strip().casefold())
        if pk is None:
            raise ValueError(_("“%(value)s” is not one of the choices.") % {"value": value[:100]})
        return str(pk)
    raise ValueError(_("Give a choice by its label."))


def fields_by_key(keys: Iterable[str], target: str) -> dict[str, Field]:
    """The fields of `target` named by `keys` (unknown keys left out). One query."""
    return {
        f.key: f
        for f in Field.objects.filter(key__in=list(keys), form__target=target).select_related("form", "choice_list")
    }


def cleaned_for_edit(owner: Owner, values: Mapping[str, Any], *, end_user: bool = False) -> dict[str, object]:
    """The cleaned form data for `save_values`, from JSON `values`, or a ValidationError keyed
    by field key: an unknown, retired or (for `end_user`) agent-only field, a value of the
    wrong shape, or one the field's rules refuse."""
    target = {"ticket": Target.TICKET, "user": Target.USER}.get(owner_column(owner), Target.ORGANIZATION)
    fields = fields_by_key(values, target)
    errors: dict[str, list[str]] = {}
    for key in values:
        field = fields.get(key)
        if field is None:
            errors[key] = [_("There is no such field.")]
        elif field.retired_at is not None:
            errors[key] = [_("This field is retired and can no longer be changed.")]
        elif end_user and field.audience != Audience.END_USER:
            errors[key] = [_("This field is filled in by the help desk.")]
    if errors:
        raise ValidationError(errors)
    data, problems = form_input(fields, values)
    if problems:
        raise ValidationError({key: [why] for key, why in problems.items()})
    form = fields_form(list(fields.values()), data=data)
    if not form.is_valid():
        raise ValidationError({name.removeprefix(PREFIX): list(messages) for name, messages in form.errors.items()})
    return {name: form.cleaned_data.get(name) for name in form.custom_fields}


def loose_input(topic: Any, values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """For the osTicket drop-in, which keeps a ticket whatever its extra keys say: (the values
    each field asked of the requester on `topic` accepts alone, {key: why one was not used},
    the keys that name no field). Text values, as osTicket clients send them; a multiple choice
    as comma-separated labels."""
    asked_now = asked_fields(topic, "user")
    known = fields_by_key([k for k in values if k not in asked_now], Target.TICKET) if values else {}
    good: dict[str, Any] = {}
    problems: dict[str, str] = {}
    unknown: list[str] = []
    for key, value in values.items():
        field = asked_now.get(key)
        if field is None:
            other = known.get(key)
            if other is None:
                unknown.append(key)
            elif other.retired_at is not None:
                problems[key] = _("the field is retired")
            elif other.audience != Audience.END_USER:
                problems[key] = _("the help desk fills this field in")
            else:
                problems[key] = _("the field is not asked for this help topic")
            continue
        typed: Any = value
        if field.is_multiple:
            typed = [part.strip() for part in value.split(",") if part.strip()]
        elif field.type == FieldType.CHECKBOX:
            typed = value.strip().casefold() in ("1", "true", "yes", "on", "y")
        data, shape = form_input({key: field}, {key: typed})
        if shape:
            problems[key] = shape[key]
            continue
        form = fields_form([field], data=data)
        if form.is_valid():
            good[key] = data[PREFIX + key]
        else:
            problems[key] = " ".join(str(m) for m in form.errors.get(field.form_name, []))
    return good, problems, unknown


def missing_required(topic: Any, given: Mapping[str, object]) -> list[str]:
    """The keys of required fields asked of the requester on `topic` that `given` leaves out
    (a required checkbox must be ticked)."""
    return [
        key for key, field in asked_fields(topic, "user").items() if field.required and given.get(key) in (None, "", [])
    ]


def asked_fields(topic: Any, audience: str) -> dict[str, Field]:
    """{key: field} asked for a new ticket on `topic` of `audience` ("user" or "agent")."""
    return {f.key: f for _form, fields in asked(forms_for_ticket(topic), audience) for f in fields}


def intake_input(topic: Any, audience: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """What `open_ticket(custom_values=…)` takes, from JSON `values` for a new ticket on
    `topic` answered by `audience` ("user" or "agent"), or a ValidationError keyed by field key
    for a value of the wrong shape or a field that is not asked."""
    topic_fields = asked_fields(topic, audience)
    errors: dict[str, list[str]] = {}
    missing = [key for key in values if key not in topic_fields]
    if missing:
        known = fields_by_key(missing, Target.TICKET)
        for key in missing:
            field = known.get(key)
            if field is None:
                errors[key] = [_("There is no such field.")]
            elif field.retired_at is not None:
                errors[key] = [_("This field is retired and can no longer be answered.")]
            elif audience != "agent" and field.audience != Audience.END_USER:
                errors[key] = [_("This field is filled in by the help desk.")]
            else:
                errors[key] = [_("This field is not asked for this help topic.")]
    if errors:
        raise ValidationError(errors)
    data, problems = form_input(topic_fields, values)
    if problems:
        raise ValidationError({key: [why] for key, why in problems.items()})
    return {name.removeprefix(PREFIX): value for name, value in data.items()}
