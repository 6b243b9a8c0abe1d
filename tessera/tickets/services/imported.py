"""Tickets brought over from another desk (tessera.importer, `manage.py import_osticket`).

History is written as it happened, not as a change made today: no policy check (the import is
an administrator's act on the whole desk), no notifications, no version bump, no SLA
recomputation, the original times kept. The Events written here are the old desk's timeline
translated, which is why they live in the ticket services like every other Event writer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Max

from ..attachments import safe_name, stored_content_type
from ..models import (
    Attachment,
    Collaborator,
    Counter,
    Event,
    Referral,
    ThreadEntry,
    Ticket,
    TicketLink,
)
from .common import FIRST_TICKET_NUMBER, next_counter_value

TICKET_FIELDS = (
    "subject",
    "user_id",
    "organization_id",
    "department_id",
    "topic_id",
    "priority_id",
    "status_id",
    "state",
    "assignee_id",
    "team_id",
    "source",
    "is_answered",
    "created_at",
    "updated_at",
    "closed_at",
    "resolved_at",
    "due_at",
    "due_is_manual",
    "last_message_at",
    "last_response_at",
    "first_response_at",
    "sla_plan_id",
)


def import_ticket(number: int, fields: dict[str, Any]) -> Ticket:
    """A ticket as the old desk had it, under its old number."""
    return Ticket.objects.create(number=number, **{k: v for k, v in fields.items() if k in TICKET_FIELDS})


def import_tickets(items: list[tuple[int, dict[str, Any]]]) -> list[int]:
    """Many tickets in one statement (a batch of the import): their ids, in order."""
    made = Ticket.objects.bulk_create(
        Ticket(number=number, **{k: v for k, v in fields.items() if k in TICKET_FIELDS}) for number, fields in items
    )
    return [t.pk for t in made]


def update_imported_ticket(ticket_id: int, fields: dict[str, Any]) -> None:
    """The old desk changed the ticket since the last run: take its current values."""
    Ticket.objects.filter(pk=ticket_id).update(**{k: v for k, v in fields.items() if k in TICKET_FIELDS})


def numbers_taken(numbers: list[int]) -> set[int]:
    """Which of these numbers tickets already have (one query for a batch)."""
    return set(Ticket.objects.filter(number__in=numbers).values_list("number", flat=True))


def continue_numbering_after(highest: int, *, counter: str = "ticket", first: int = FIRST_TICKET_NUMBER) -> None:
    """New tickets (or tasks) continue after the highest imported number (never going back)."""
    Counter.objects.get_or_create(name=counter, defaults={"value": first - 1})
    Counter.objects.filter(name=counter, value__lt=highest).update(value=highest)


def free_number() -> int:
    """A number for an imported ticket whose own cannot be kept (not a number, or taken)."""
    highest = Ticket.objects.aggregate(highest=Max("number"))["highest"] or 0
    continue_numbering_after(highest)  # past every number already here, imported or not
    return next_counter_value("ticket", FIRST_TICKET_NUMBER)


@dataclass(frozen=True)
class ImportedEntry:
    kind: str
    author_id: int | None
    author_name: str
    body_html: str
    body_text: str
    source: str
    created_at: datetime


def import_entry(ticket_id: int, entry: ImportedEntry) -> ThreadEntry:
    return ThreadEntry.objects.create(
        ticket_id=ticket_id,
        kind=entry.kind,
        author_id=entry.author_id,
        author_name=entry.author_name[:150],
        body_html=entry.body_html,
        body_text=entry.body_text,
        source=entry.source,
        created_at=entry.created_at,
    )


def import_entries(items: list[tuple[int, ImportedEntry]]) -> list[int]:
    made = ThreadEntry.objects.bulk_create(
        ThreadEntry(
            ticket_id=ticket_id,
            kind=e.kind,
            author_id=e.author_id,
            author_name=e.author_name[:150],
            body_html=e.body_html,
            body_text=e.body_text,
            source=e.source,
            created_at=e.created_at,
        )
        for ticket_id, e in items
    )
    return [e.pk for e in made]


def update_imported_entry(entry_id: int, entry: ImportedEntry) -> None:
    ThreadEntry.objects.filter(pk=entry_id).update(
        kind=entry.kind,
        author_id=entry.author_id,
        author_name=entry.author_name[:150],
        body_html=entry.body_html,
        body_text=entry.body_text,
    )


def import_attachment(
    entry_id: int, name: str, content: bytes, content_type: str, *, content_id: str = "", write_file: bool = True
) -> Attachment:
    """A file on an imported entry. Stored content-addressed: a run killed after writing the
    file but before its commit finds it again instead of writing a second copy."""
    digest = hashlib.sha256(content).hexdigest()
    name = safe_name(name or "attachment")
    att = Attachment(
        entry_id=entry_id,
        name=name,
        size=len(content),
        content_type=stored_content_type(name, content_type, content),
        sha256=digest,
        content_id=content_id[:255],
    )
    path = f"attachments/{digest[:2]}/{digest}/{name}"
    if write_file and not default_storage.exists(path):
        path = default_storage.save(path, ContentFile(content))
    att.file.name = path
    att.save()
    return att


@dataclass(frozen=True)
class ImportedEvent:
    ticket_id: int
    kind: str
    actor_id: int | None
    actor_name: str
    created_at: datetime
    after: str
    data: dict[str, Any]


def import_events(items: list[ImportedEvent]) -> list[int]:
    made = Event.objects.bulk_create(
        Event(
            ticket_id=e.ticket_id,
            kind=e.kind,
            actor_id=e.actor_id,
            actor_name=e.actor_name[:150],
            after=e.after[:255],
            data=e.data,
            created_at=e.created_at,
        )
        for e in items
    )
    return [e.pk for e in made]


def update_imported_event(event_id: int, *, before: str, after: str, data: dict[str, Any]) -> None:
    Event.objects.filter(pk=event_id).update(before=before[:255], after=after[:255], data=data)


def import_collaborator(ticket_id: int, user_id: int, created_at: datetime) -> int:
    collab, _created = Collaborator.objects.get_or_create(
        ticket_id=ticket_id, user_id=user_id, defaults={"created_at": created_at}
    )
    return collab.pk


def import_referral(ticket_id: int, agent_id: int, created_at: datetime) -> int:
    referral, _created = Referral.objects.get_or_create(
        ticket_id=ticket_id, agent_id=agent_id, defaults={"created_at": created_at}
    )
    return referral.pk


def import_link(ticket_id: int, other_id: int) -> int:
    low, high = sorted((ticket_id, other_id))
    link, _created = TicketLink.objects.get_or_create(ticket_id=low, other_id=high)
    return link.pk


def import_merge(child_id: int, parent_id: int) -> None:
    Ticket.objects.filter(pk=child_id).update(merged_into_id=parent_id)
