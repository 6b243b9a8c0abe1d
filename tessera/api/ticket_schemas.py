"""What the ticket endpoints accept and answer, as typed schemas (and so as the OpenAPI document).

Input text is refused when it holds a NUL or a lone surrogate: neither can be stored (PostgreSQL
refuses both), so they are a 422 naming the field rather than a failed write. Ids are bounded
to what a database key can hold, so a huge number is a 422 too, never an overflow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, Field

from tessera.db_keys import MAX_ID
from tessera.tickets.models import EntryKind, Source, State


def storable(value: str) -> str:
    """Text a database can keep: no NUL, no lone surrogate (which cannot be encoded)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


Text = Annotated[str, AfterValidator(storable)]


def storable_answers(value: dict[str, Any]) -> dict[str, Any]:
    """Answers to custom fields whose keys and texts (alone or in a list) a database can keep."""
    for key, answer in value.items():
        storable(key)
        for part in answer if isinstance(answer, list) else [answer]:
            if isinstance(part, str):
                storable(part)
    return value


# {field key: answer}: typed per field, checked by the fields' own rules (customfields/json_values.py).
Answers = Annotated[dict[str, Any], AfterValidator(storable_answers)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


# ---------------------------------------------------------------------------- answers


class Ref(Schema):
    """A named thing a ticket points at (status, priority, department, team, help topic)."""

    id: int
    name: str


class PersonOut(Schema):
    id: int
    name: str
    email: str


class AgentRef(Schema):
    """An agent, by their agent id (what `assign` takes) and who they are."""

    id: int
    name: str
    email: str


class TicketOut(Schema):
    number: int
    subject: str
    state: State
    status: Ref
    priority: Ref
    department: Ref
    team: Ref | None
    topic: Ref | None
    assignee: AgentRef | None
    requester: PersonOut
    source: Source
    is_answered: bool
    version: int = Field(description="Changes with every change; send it back in If-Match.")
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    first_response_due_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    merged_into: int | None = Field(description="The number of the ticket this one was merged into.")
    fields: dict[str, Any] = Field(
        default_factory=dict,
        description="Answers to custom fields by key: text as strings, numbers, ISO dates, booleans, a choice "
        "as its label, a multiple choice as a list of labels. System keys get what the requester may see.",
    )


class TicketPage(Schema):
    items: list[TicketOut]
    next: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    url: str


class EntryOut(Schema):
    type: Literal["entry"] = "entry"
    id: int
    kind: EntryKind
    author: PersonOut | None
    author_name: str
    body_html: str
    body_text: str
    source: Source
    created_at: datetime
    attachments: list[AttachmentOut]


class EventOut(Schema):
    type: Literal["event"] = "event"
    id: int
    kind: str
    actor_name: str
    before: str
    after: str
    sentence: str
    via: str | None = Field(description="The channel the change came through, such as an API key.")
    created_at: datetime


TimelineItem = Annotated[EntryOut | EventOut, Field(discriminator="type")]


class TicketDetail(TicketOut):
    collaborators: list[PersonOut]
    timeline: list[TimelineItem]


# ---------------------------------------------------------------------------- requests


class AttachmentIn(Schema):
    name: Text = Field(min_length=1, max_length=255)
    content_type: Text = Field("", max_length=120)
    data: str = Field(description="The file's bytes, base64-encoded.")


class TicketIn(Schema):
    requester_email: Text = Field(max_length=254)
    requester_name: Text = Field("", max_length=150)
    subject: Text
    message: Text
    topic_id: Id | None = None
    department_id: Id | None = None
    priority_id: Id | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list)
    fields: Answers | None = Field(
        None,
        description="Answers to the custom fields asked for the topic, by key, checked as on the portal (required "
        "fields included). Left out: no field is asked. A system key answers only what the requester fills in.",
    )


class FieldsIn(Schema):
    fields: Answers = Field(
        description="Answers by key, typed as the ticket shows them (null clears one). Only the keys named change."
    )


class ReplyIn(Schema):
    message: Text
    status_id: Id | None = Field(None, description="Set this status with the reply (agent keys).")
    signature: Literal["none", "agent", "department"] | bool = Field(
        False,
        description=(
            'Sign the reply (agent keys): "none", "agent" (the agent\'s own signature) or "department" (the '
            "ticket's department's). true and false still work: true is \"agent\"."
        ),
    )
    attachments: list[AttachmentIn] = Field(default_factory=list)


class NoteIn(Schema):
    note: Text
    attachments: list[AttachmentIn] = Field(default_factory=list)


class AssignIn(Schema):
    agent_id: Id | None = None
    team_id: Id | None = None
    note: Text = ""


class TransferIn(Schema):
    department_id: Id
    agent_id: Id | None = None
    team_id: Id | None = None
    note: Text = ""


class PriorityIn(Schema):
    priority_id: Id
    note: Text = ""


class StatusIn(Schema):
    status_id: Id
    note: Text = ""
    close_tasks: bool = Field(
        False,
        description="Closing a ticket that has open tasks is refused (409) unless this is true: then its open "
        "tasks close with it (the key's agent needs the right to close each).",
    )


class CollaboratorIn(Schema):
    email: Text = Field(max_length=254)


class MergeIn(Schema):
    sources: list[Id] = Field(min_length=1, max_length=50, description="Numbers of the tickets to fold into this one.")


class LinkIn(Schema):
    number: Id = Field(description="The number of the ticket to link to.")


class CollaboratorList(Schema):
    collaborators: list[PersonOut]


class LinkOut(Schema):
    numbers: list[int] = Field(description="The tickets now linked to this one that you can see.")
