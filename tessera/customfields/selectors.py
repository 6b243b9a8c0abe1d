"""Reads of forms, fields and answers, in a fixed number of queries whatever the desk's size."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch
from django.db.models.signals import m2m_changed

from tessera import process_memo
from tessera.tickets import policy
from tessera.tickets.models import HelpTopic

from .models import Audience, Field, FieldValue, Form, Target
from .values import Owner, display, owner_column, value_of

if TYPE_CHECKING:
    from tessera.accounts.models import User
    from tessera.tickets.models import Ticket


def _with_fields() -> Prefetch[Any]:  # the stubs type a Prefetch by its lookup string
    return Prefetch(
        "fields", queryset=Field.objects.select_related("choice_list").order_by("order", "id"), to_attr="ordered_fields"
    )


@process_memo.memo("customfields.Form", "customfields.Field", "customfields.ChoiceList")
def _ticket_forms() -> list[tuple[Form, frozenset[int]]]:
    """Every active ticket form with its fields and the ids of its topics, read at most every
    few seconds per process (tessera.process_memo): the ticket page and every new ticket need
    them, and they change only when an administrator edits a form."""
    forms = (
        Form.objects.filter(target=Target.TICKET, is_active=True)
        .order_by("-for_all_tickets", "order", "title", "id")
        .prefetch_related(_with_fields(), Prefetch("topics", queryset=HelpTopic.objects.only("id")))
    )
    return [(form, frozenset(topic.pk for topic in form.topics.all())) for form in forms]


def _forget_forms(**kwargs: object) -> None:
    _ticket_forms.forget()


# Attaching a form to a topic saves no Form row: forget the memo on the many-to-many change too.
m2m_changed.connect(_forget_forms, sender=Form.topics.through, dispatch_uid="customfields-forget-topic-forms")


def forms_for_ticket(topic: HelpTopic | int | None) -> list[Form]:
    """The active ticket forms asked for `topic`: those for every ticket, then the topic's own,
    each in the administrator's order, with their fields (retired ones included, ordered) on
    `form.ordered_fields`. No query while the process memo holds them."""
    topic_id = getattr(topic, "pk", topic)
    return [form for form, topics in _ticket_forms() if form.for_all_tickets or topic_id in topics]


def forms_for(target: str) -> list[Form]:
    """The active forms about users (`Target.USER`) or organisations (`Target.ORGANIZATION`)."""
    return list(
        Form.objects.filter(target=target, is_active=True)
        .order_by("order", "title", "id")
        .prefetch_related(_with_fields())
    )


def asked(forms: list[Form], audience: str) -> list[tuple[Form, list[Field]]]:
    """Each form with the fields it asks of `audience` now ("user": what the end user fills
    in; "agent": every field), leaving out retired fields and forms left with none."""
    grouped = []
    for form in forms:
        fields = [
            field
            for field in getattr(form, "ordered_fields", [])
            if field.retired_at is None and (audience == "agent" or field.audience == Audience.END_USER)
        ]
        if fields:
            grouped.append((form, fields))
    return grouped


def stored_rows(owner: Owner) -> dict[int, list[FieldValue]]:
    """The owner's answers by field id, with field and item. One query."""
    rows: dict[int, list[FieldValue]] = defaultdict(list)
    column = owner_column(owner)
    found = (
        FieldValue.objects.filter(**{column: owner})
        .select_related("field", "field__form", "item")
        .order_by("field__form__order", "field__order", "field_id", "item__order", "item__label", "id")
    )
    for row in found:
        rows[row.field_id].append(row)
    return rows


def values_for(ticket: Ticket, *, for_end_user: bool = False) -> dict[str, str]:
    """{field key: the answer as one line} for every answered field of the ticket, retired
    fields included (canned-response variables). `for_end_user` leaves out the agents-only
    fields, for text the requester will read. One query."""
    found = {}
    for rows in stored_rows(ticket).values():
        field = rows[0].field
        if for_end_user and field.audience == Audience.AGENTS:
            continue
        found[field.key] = display(field, rows)
    return found


@dataclass(frozen=True)
class Shown:
    """One field in a values panel."""

    field: Field
    rows: list[FieldValue]
    text: str  # the answer as one line ("" when unanswered)
    value: object  # what an edit form starts from

    @property
    def retired(self) -> bool:
        return self.field.retired_at is not None

    @property
    def answered(self) -> bool:
        return bool(self.rows)

    @property
    def moment(self) -> object:
        """The stored time of a date-and-time answer, for `{% when %}`."""
        return self.rows[0].moment if self.rows and self.rows[0].moment is not None else None


def panel(owner: Owner, forms: list[Form], *, end_user: bool = False) -> list[Shown]:
    """What a values panel lists for `owner`: every field the `forms` ask now (answered or not,
    so an agent can fill it in), then any other answered field (retired, or from a form that no
    longer applies): an answer is never hidden from agents. `end_user` keeps only what the end
    user may see. One query for the answers."""
    rows = stored_rows(owner)
    shown: list[Shown] = []
    seen: set[int] = set()
    for form in forms:
        for field in getattr(form, "ordered_fields", []):
            if field.retired_at is not None and field.pk not in rows:
                continue
            seen.add(field.pk)
            shown.append(_shown(field, rows.get(field.pk, [])))
    for field_id, field_rows in rows.items():
        if field_id not in seen:
            shown.append(_shown(field_rows[0].field, field_rows))
    if end_user:
        shown = [s for s in shown if s.field.audience != Audience.AGENTS]
    return shown


def _shown(field: Field, rows: list[FieldValue]) -> Shown:
    return Shown(field=field, rows=rows, text=display(field, rows), value=value_of(field, rows))


def ticket_panel(ticket: Ticket) -> list[Shown]:
    """The ticket page's answers: the forms of its topic and every ticket's. Three queries."""
    return panel(ticket, forms_for_ticket(ticket.topic_id))


def ticket_panel_context(actor: User, ticket: Ticket) -> dict[str, Any]:
    """What the ticket page needs to include customfields/_ticket_values.html. Three queries."""
    return {"custom_fields": ticket_panel(ticket), "may_edit_fields": policy.can_edit_ticket_fields(actor, ticket)}


def answers_for_requester(ticket: Ticket) -> list[Shown]:
    """The ticket's answers its requester may see (the portal's ticket page): every answered
    field but the agents-only ones, retired fields included. One query."""
    return [
        _shown(rows[0].field, rows)
        for rows in stored_rows(ticket).values()
        if rows[0].field.audience != Audience.AGENTS
    ]


def person_panel(owner: Owner) -> list[Shown]:
    """A user's or an organisation's answers. Three queries."""
    target = Target.ORGANIZATION if owner_column(owner) == "organization" else Target.USER
    return panel(owner, forms_for(target))


def field_by_key(key: str) -> Field | None:
    return Field.objects.select_related("form", "choice_list").filter(key=key).first()
