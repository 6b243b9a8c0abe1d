"""Changing answers to custom fields: the only writer of `FieldValue` rows.

A ticket's answer changed after intake leaves a timeline Event (written by the ticket core's
`services.record_field_change`, which also asks policy and bumps the ticket's version) in the
same transaction as the rows. A user's or an organisation's answer goes to the audit log, as
people have no timeline. Answers given with a new ticket are written by `write_initial`, inside
`open_ticket`'s transaction (customfields/intake.py), without an Event per field: the ticket's
"opened" Event covers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tessera.accounts.models import Organization, User
from tessera.audit import services as audit
from tessera.tickets import policy
from tessera.tickets import services as ticket_services
from tessera.tickets.models import Ticket

from .models import Field, FieldValue
from .values import Owner, comparable, comparable_value, display, owner_column, rows_for

PREFIX = "cf_"


@dataclass(frozen=True)
class Change:
    field: Field
    before: str
    after: str


def may_edit(actor: User | None, owner: Owner) -> bool:
    """May `actor` change `owner`'s answers (after intake)? Decided by policy."""
    if isinstance(owner, Ticket):
        return policy.can_edit_ticket_fields(actor, owner)
    if isinstance(owner, User):
        return policy.can_edit_person_fields(actor, owner)
    if isinstance(owner, Organization):
        return policy.can_edit_person_fields(actor, None)
    return False


def save_values(
    actor: User, owner: Owner, cleaned_data: Mapping[str, object], *, expected_version: int | None = None
) -> list[Change]:
    """Store the answers in `cleaned_data` (a CustomFieldsForm's, inputs named `cf_<key>`) for
    a ticket, user or organisation, and record each change. Inputs that name no field are
    ignored; a retired field cannot be changed. Returns what changed (nothing: [])."""
    if not may_edit(actor, owner):
        raise PermissionDenied(_("You cannot change these details."))
    keys = {name.removeprefix(PREFIX): value for name, value in cleaned_data.items() if name.startswith(PREFIX)}
    if not keys:
        return []
    fields = {f.key: f for f in Field.objects.select_related("form").filter(key__in=list(keys))}
    for field in fields.values():
        if field.retired_at is not None:
            raise ValidationError(
                {field.form_name: _("%(label)s is retired and can no longer be changed.") % {"label": field.label}}
            )
        if field.form.target != _target(owner):
            raise ValidationError({field.form_name: _("This field is not asked here.")})
    changes: list[Change] = []
    column = owner_column(owner)
    with transaction.atomic():
        current: dict[int, list[FieldValue]] = {}
        for row in FieldValue.objects.filter(**{column: owner, "field__in": list(fields.values())}).select_related(
            "item"
        ):
            current.setdefault(row.field_id, []).append(row)
        first = True
        for key, field in fields.items():
            value = keys[key]
            old_rows = current.get(field.pk, [])
            if comparable(field, old_rows) == comparable_value(field, value):
                continue
            new_rows = rows_for(field, owner, value)
            change = Change(field, display(field, old_rows), display(field, new_rows))
            if isinstance(owner, Ticket):
                ticket_services.record_field_change(
                    actor,
                    owner,
                    key=field.key,
                    label=field.label,
                    before=change.before,
                    after=change.after,
                    expected_version=expected_version if first else None,
                )
                first = False
            FieldValue.objects.filter(pk__in=[row.pk for row in old_rows]).delete()
            FieldValue.objects.bulk_create(new_rows)
            changes.append(change)
        if changes and not isinstance(owner, Ticket):
            audit.record(
                audit.Action.CHANGE,
                actor=actor,
                obj=owner,
                before={c.field.key: c.before for c in changes},
                after={c.field.key: c.after for c in changes},
                detail="custom fields",
            )
    return changes


def _target(owner: Owner) -> str:
    return owner_column(owner)  # the Target values are spelled as the owner columns


def write_initial(owner: Owner, answers: Mapping[Field, object]) -> int:
    """The first answers of a new owner (a ticket being opened): rows only, in one INSERT.
    The caller has checked who may answer what. Returns the number of rows written."""
    rows = [row for field, value in answers.items() for row in rows_for(field, owner, value)]
    FieldValue.objects.bulk_create(rows)
    return len(rows)
