"""/api/v1/tickets: open, list, read and change tickets through the workspace's own services.

An adapter like the staff views: typed schemas parse the request, `require_scope` checks the
key, and every change is one service call made as the key's agent inside
`channel.acting_via(...)`, so the policy decides exactly as in the workspace and every Event
names the key. The answers to refusals are problem documents: a ticket the key may not see is
404 (as if it did not exist), a refusal by the policy 403, a service's ValidationError 422
naming the request's own fields, a stale `If-Match` 412.

Who a key is:
- **An agent key** acts as its agent: it lists `policy.visible_tickets(agent)`, reads what the
  agent's ticket page shows (internal notes and events included) and may do what the agent
  may do.
- **A system key** (no agent) is an integration, limited by its scopes alone. With
  `tickets:read` it reads desk-wide, but only what the requester could read: public entries,
  no internal notes, no events, no internal-note files. With `tickets:write` it may open
  tickets and reply, each time as the ticket's requester (what osTicket's API does); every
  agent action (notes, assignment, status, collaborators, merge, links, uploads of files on
  their own) answers 403 `agent-required`. This rule lives here, not in tickets/policy.py,
  because it is about keys, which the core does not know.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal, cast
from urllib.parse import urlencode

from ninja import File, Form, Query, Router, Schema, UploadedFile
from ninja.responses import Status as Answer
from pydantic import Field

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models, transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from tessera.accounts.models import Agent, Department, Organization, Team, User
from tessera.accounts.services import end_user_for_email
from tessera.api import cursors, etags
from tessera.api.auth import channel_label, require_agent, require_scope
from tessera.api.models import ApiKey, Scope
from tessera.api.problems import COMMON, ApiProblem, Problem, from_django_validation
from tessera.api.ticket_schemas import (
    AgentRef,
    AssignIn,
    AttachmentIn,
    AttachmentOut,
    CollaboratorIn,
    CollaboratorList,
    EntryOut,
    EventOut,
    FieldsIn,
    Id,
    LinkIn,
    LinkOut,
    MergeIn,
    NoteIn,
    PersonOut,
    PriorityIn,
    Ref,
    ReplyIn,
    StatusIn,
    Text,
    TicketDetail,
    TicketIn,
    TicketOut,
    TicketPage,
    TransferIn,
)
from tessera.customfields import json_values
from tessera.customfields import queue as custom_queue
from tessera.customfields import services as field_services
from tessera.search import query as search_query
from tessera.search.syntax import parse_query
from tessera.staff.filters import FILTER_PARAMS, QueueFilter
from tessera.tickets import attachments as attachment_store
from tessera.tickets import channel, policy, reference, relations, selectors, services
from tessera.tickets.close_guards import CloseRefused
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import (
    Attachment,
    EntryKind,
    Event,
    HelpTopic,
    Priority,
    Source,
    Status,
    ThreadEntry,
    Ticket,
)

router = Router(tags=["tickets"])

# What a change may answer besides success: everything a read may, a stale If-Match, and a
# body over the desk's size limit (DATA_UPLOAD_MAX_MEMORY_SIZE).
CHANGE: dict[int, Any] = {**COMMON, 412: Problem, 413: Problem}
MAX_PAGE = 100

# ---------------------------------------------------------------------------- who and which ticket


def _key(request: HttpRequest) -> ApiKey:
    return cast(ApiKey, request.api_key)  # type: ignore[attr-defined]  # set by KeyAuth


def _agent(request: HttpRequest) -> Agent | None:
    return _key(request).agent


def _not_found(number: int) -> ApiProblem:
    return ApiProblem("not-found", _("There is no ticket %(number)d, or this key may not see it.") % {"number": number})


def _ticket(request: HttpRequest, number: int) -> Ticket:
    """The ticket as the key may see it (404 otherwise), with its row relations loaded."""
    agent = _agent(request)
    if agent is not None:
        found = selectors.ticket_for_agent(agent, number)
    else:
        row = Ticket.objects.select_related("organization").filter(number=number).first()
        found = selectors.with_row_relations([row])[0] if row is not None else None
    if found is None:
        raise _not_found(number)
    return found


def _reread(ticket: Ticket) -> Ticket:
    """The ticket after a change, as it is now (the caller made the change, so it may read the
    result even when the change took the ticket out of its agent's reach)."""
    return selectors.with_row_relations([Ticket.objects.get(pk=ticket.pk)])[0]


def _acts_for_desk(request: HttpRequest, ticket: Ticket) -> bool:
    """Does the key see the ticket as the workspace shows it (notes, events), or as its requester?"""
    agent = _agent(request)
    return agent is not None and policy.acts_as_agent(agent.user, ticket)


def _row[M: models.Model](source: type[M] | Callable[[int], M], pk: int | None, field: str, message: str) -> M | None:
    """The row a request names by id (a model, or a selector reading one by id); a 422 naming
    the field when there is none."""
    if pk is None:
        return None
    try:
        if isinstance(source, type):
            return cast("type[M]", source)._default_manager.get(pk=pk)
        return source(pk)
    except ObjectDoesNotExist:
        raise ApiProblem("validation", message, errors=[(field, message)]) from None


# ---------------------------------------------------------------------------- changes


@contextmanager
def _changing(request: HttpRequest, ticket: Ticket | None, fields: Mapping[str, str] | None = None) -> Iterator[None]:
    """Run a service as the key: its Events name the key; a stale version is 412; a
    ValidationError is 422 with the service's field names turned into this request's."""
    with channel.acting_via(channel_label(request)):
        try:
            yield
        except services.StaleTicket:
            if ticket is None:
                raise
            ticket.refresh_from_db()
            raise etags.stale(ticket) from None
        except ValidationError as exc:
            problem = from_django_validation(exc)
            renames = fields or {}
            errors = [
                (renames.get(field, _custom_field_name(field)), message) for field, message in problem.errors or []
            ]
            raise ApiProblem("validation", problem.detail, errors=errors) from None


def _custom_field_name(name: str) -> str:
    """A custom field's input (`cf_<key>`) as the request names it (`fields.<key>`)."""
    if name.startswith(field_services.PREFIX):
        return f"fields.{name.removeprefix(field_services.PREFIX)}"
    return name


def _uploads(attachments: list[AttachmentIn]) -> list[attachment_store.Upload]:
    """Base64 files as uploads. A file too big is refused by its encoded length, before decoding."""
    limit = settings.TESSERA["MAX_ATTACHMENT_BYTES"]
    uploads = []
    for index, item in enumerate(attachments):
        field = f"attachments.{index}.data"
        declared = len(item.data) * 3 // 4
        if declared > limit + 3:
            uploads.append(attachment_store.Upload(item.name, b"", item.content_type, declared_size=declared))
            continue
        try:
            content = base64.b64decode(item.data, validate=True)
        except (binascii.Error, ValueError):
            message = _("“%(name)s” is not valid base64.") % {"name": item.name}
            raise ApiProblem("validation", message, errors=[(field, message)]) from None
        uploads.append(attachment_store.Upload(item.name, content, item.content_type))
    return uploads


def _with_etag(response: HttpResponse, ticket: Ticket) -> None:
    etags.set_etag(response, ticket)


# ---------------------------------------------------------------------------- answers


def _ref(obj: Any) -> Ref | None:
    return Ref(id=obj.pk, name=obj.name) if obj is not None else None


def _person(user: User) -> PersonOut:
    return PersonOut(id=user.pk, name=user.display_name, email=user.email)


def ticket_out(ticket: Ticket, fields: Mapping[str, Any] | None = None) -> TicketOut:
    return TicketOut(**_ticket_fields(ticket), fields=dict(fields or {}))


def _field_renames(values: Mapping[str, Any] | None) -> dict[str, str]:
    """The keys of `values` as this request names them (`fields.<key>`), for errors keyed by field key."""
    return {key: f"fields.{key}" for key in values or {}}


def _ticket_fields(ticket: Ticket) -> dict[str, Any]:
    assignee = ticket.assignee
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "state": ticket.state,
        "status": _ref(ticket.status),
        "priority": _ref(ticket.priority),
        "department": _ref(ticket.department),
        "team": _ref(ticket.team),
        "topic": _ref(ticket.topic),
        "assignee": AgentRef(id=assignee.pk, name=assignee.user.display_name, email=assignee.user.email)
        if assignee is not None
        else None,
        "requester": _person(ticket.user),
        "source": ticket.source,
        "is_answered": ticket.is_answered,
        "version": ticket.version,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "due_at": ticket.due_at,
        "first_response_due_at": ticket.first_response_due_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "merged_into": ticket.merged_into.number if ticket.merged_into_id is not None and ticket.merged_into else None,
    }


def _attachment_out(ticket: Ticket, attachment: Attachment) -> AttachmentOut:
    url = reverse("api-v1:ticket_download_attachment", kwargs={"number": ticket.number, "attachment_id": attachment.pk})
    return AttachmentOut(
        id=attachment.pk, name=attachment.name, size=attachment.size, content_type=attachment.content_type, url=url
    )


def _entry_out(ticket: Ticket, entry: ThreadEntry, authors: Mapping[int, User], files: list[Attachment]) -> EntryOut:
    author = authors.get(entry.author_id) if entry.author_id is not None else None
    return EntryOut(
        id=entry.pk,
        kind=EntryKind(entry.kind),
        author=_person(author) if author is not None else None,
        author_name=entry.author_name,
        body_html=entry.body_html,
        body_text=entry.body_text,
        source=Source(entry.source),
        created_at=entry.created_at,
        attachments=[_attachment_out(ticket, f) for f in files],
    )


def _event_out(event: Event) -> EventOut:
    via = (event.data or {}).get("via")
    return EventOut(
        id=event.pk,
        kind=event.kind,
        actor_name=event.actor_name,
        before=event.before,
        after=event.after,
        sentence=event_sentence(event),
        via=str(via) if via else None,
        created_at=event.created_at,
    )


def _detail(request: HttpRequest, ticket: Ticket) -> TicketDetail:
    include_internal = _acts_for_desk(request, ticket)
    items = selectors.timeline(ticket, include_internal=include_internal)
    entries = [i for i in items if isinstance(i, ThreadEntry)]
    # The timeline selector defers body_text (the page renders body_html); the API gives both.
    texts = dict(ThreadEntry.objects.filter(pk__in=[e.pk for e in entries]).values_list("pk", "body_text"))
    authors = User.objects.in_bulk({e.author_id for e in entries if e.author_id is not None})
    timeline: list[EntryOut | EventOut] = []
    for item in items:
        if isinstance(item, ThreadEntry):
            item.body_text = texts.get(item.pk, "")
            files: list[Attachment] = item.files  # type: ignore[attr-defined]  # prefetched by selectors.timeline
            timeline.append(_entry_out(ticket, item, authors, files))
        else:
            timeline.append(_event_out(item))
    collaborators = [_person(c.user) for c in selectors.collaborators(ticket)]
    fields = json_values.values_for(ticket, end_user=not include_internal)
    return TicketDetail(**_ticket_fields(ticket), fields=fields, collaborators=collaborators, timeline=timeline)


def _entry_answer(ticket: Ticket, entry: ThreadEntry) -> EntryOut:
    authors = {entry.author_id: entry.author} if entry.author_id is not None and entry.author is not None else {}
    return _entry_out(ticket, entry, authors, list(entry.attachments.order_by("id")))


# ---------------------------------------------------------------------------- open


@router.post(
    "",
    response={201: TicketOut, **CHANGE},
    url_name="ticket_create",
    summary="Open a ticket",
    description=(
        "An agent key opens it on behalf of the requester; a system key opens it as the requester "
        "(it may name the priority, as osTicket's API lets it). The requester is found by email, "
        "or made as an end user."
    ),
)
def ticket_create(request: HttpRequest, response: HttpResponse, payload: TicketIn) -> Answer[TicketOut]:
    require_scope(request, Scope.TICKETS_WRITE)
    agent = _agent(request)
    topic = _row(selectors.intake_topic, payload.topic_id, "topic_id", _("There is no such help topic."))
    department = _row(Department, payload.department_id, "department_id", _("There is no such department."))
    priority = _row(Priority, payload.priority_id, "priority_id", _("There is no such priority."))
    uploads = _uploads(payload.attachments)
    fields = {"email": "requester_email", "requester": "requester_email", "topic": "topic_id"}
    fields |= {"priority": "priority_id", "department": "department_id", "attachments": "attachments"}
    fields |= _field_renames(payload.fields)
    with _changing(request, None, fields):
        custom_values = None
        if payload.fields is not None:
            custom_values = json_values.intake_input(topic, "agent" if agent is not None else "user", payload.fields)
        try:
            with transaction.atomic():
                requester = end_user_for_email(email=payload.requester_email, name=payload.requester_name)
                if agent is None and policy.is_desk_staff(requester):
                    # Otherwise an integration could make "Ada Admin opened the ticket" appear to agents.
                    raise ValidationError(
                        {"email": _("This address belongs to a member of the help desk staff; use an agent key.")}
                    )
                ticket = services.open_ticket(
                    agent.user if agent is not None else requester,
                    requester=requester,
                    subject=payload.subject,
                    message=payload.message,
                    topic=topic,
                    department=department,
                    priority=priority,
                    source=Source.API,
                    uploads=uploads,
                    routed=agent is None,
                    keep_refusal=False,
                    custom_values=custom_values,
                )
        except services.TicketRefused as refused:
            services.record_refusal(refused)
            raise
    # The service's own instance is the ticket as saved (rules included), with the rows it was
    # made from attached; reading it again would cost six queries, a quarter of the request.
    _with_etag(response, ticket)
    response["Location"] = reverse("api-v1:ticket_get", kwargs={"number": ticket.number})
    # A request that names no custom fields gives the intake hooks nothing to save, and nothing
    # else answers a ticket's fields while it is being opened: its answer is known to be empty,
    # and reading it back would cost a three-table query, a sixth of the request's Python.
    answered = json_values.values_for(ticket, end_user=agent is None) if custom_values is not None else {}
    return Answer(201, ticket_out(ticket, answered))


# ---------------------------------------------------------------------------- list

QueueSlug = Literal[
    "all",
    "mine",
    "teams",
    "unassigned",
    "open",
    "pending",
    "breaching",
    "overdue",
    "answered",
    "resolved",
    "following",
    "closed",
]


class TicketFilters(Schema):
    """The workspace queue's filters (tessera/staff/filters.py), spelled the same."""

    queue: QueueSlug = Field("all", description="A system queue; system keys list `all` only.")
    q: Text | None = Field(None, max_length=1000, description="Search text; results are ranked, one page only.")
    sort: Text = Field(
        "-updated",
        description="number, subject, user, priority, status, assignee, created, updated or due; "
        "a leading '-' sorts descending.",
    )
    status: list[Text] = Field(default_factory=list, description="Status ids (repeat or comma-separate).")
    state: list[Text] = Field(default_factory=list, description="open, pending, resolved, closed, archived.")
    priority: list[Text] = Field(default_factory=list, description="Priority ids.")
    department: list[Text] = Field(default_factory=list, description="Department ids.")
    team: Text | None = Field(None, description="A team id, or `none`.")
    assignee: Text | None = Field(None, description="An agent id, or `none`.")
    topic: Text | None = Field(None, description="A help topic id.")
    source: Text | None = Field(None, description="web, email, api, phone, staff, walk_in or other.")
    org: Text | None = Field(None, description="An organisation id.")
    user: Text | None = Field(None, description="The requester's user id or email address.")
    answered: Text | None = Field(None, description="yes or no.")
    overdue: Text | None = Field(None, description="yes: a due time still owed has passed.")
    due: Text | None = Field(None, description="hour, today or none.")
    created_after: Text | None = Field(None, description="YYYY-MM-DD, inclusive, in the desk's time zone.")
    created_before: Text | None = None
    updated_after: Text | None = None
    updated_before: Text | None = None
    due_after: Text | None = None
    due_before: Text | None = None
    cursor: Text | None = Field(None, description="The `next` of the previous page.")
    limit: int = Field(50, ge=1, le=MAX_PAGE)


def _filter_errors(request: HttpRequest) -> list[tuple[str, str]]:
    """QueueFilter explains a value it cannot use in a sentence; read each parameter alone to
    say which field the sentence is about."""
    return [
        (key, message)
        for key in (*FILTER_PARAMS, "sort", *custom_queue.param_names(request.GET))
        if key in request.GET
        for message in QueueFilter.from_params({key: request.GET.getlist(key)}).errors
    ]


# The filters naming a row by id, and where that row lives. The reference tables are read once
# per request (tickets.reference), and the page's rows reuse them, so the check costs little.
_REFERENCED: dict[str, type[models.Model]] = {
    "status": Status,
    "priority": Priority,
    "department": Department,
    "team": Team,
    "topic": HelpTopic,
}


def _unknown_ids(request: HttpRequest) -> list[tuple[str, str]]:
    """A filter on an id that names nothing is the client's mistake, not an empty queue."""
    errors: list[tuple[str, str]] = []
    for key in (*_REFERENCED, "assignee", "org"):
        wanted = {
            int(part)
            for value in request.GET.getlist(key)
            for part in value.split(",")
            if part.strip().isdecimal() and len(part.strip()) < 12
        }
        if not wanted:
            continue
        if key in _REFERENCED:
            missing = wanted - set(reference.by_pk(_REFERENCED[key]))
        elif key == "assignee":
            missing = wanted - set(Agent.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        else:
            missing = wanted - set(Organization.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        if missing:
            errors.append((key, _("Nothing has the id %(ids)s.") % {"ids": ", ".join(str(i) for i in sorted(missing))}))
    return errors


def _next_link(request: HttpRequest, cursor: str) -> str:
    params = [(k, v) for k in request.GET for v in request.GET.getlist(k) if k != "cursor"]
    return request.build_absolute_uri(f"{request.path}?{urlencode([*params, ('cursor', cursor)])}")


@router.get(
    "",
    response={200: TicketPage, **COMMON},
    url_name="ticket_list",
    summary="List tickets",
    description="The workspace queues' filters and sorts, paged by a keyset cursor (also in the Link header).",
)
def ticket_list(request: HttpRequest, response: HttpResponse, filters: Query[TicketFilters]) -> TicketPage:
    require_scope(request, Scope.TICKETS_READ)
    errors = _filter_errors(request) or _unknown_ids(request)
    if errors:
        detail = errors[0][1] if len(errors) == 1 else _("The request has %(count)d problems.") % {"count": len(errors)}
        raise ApiProblem("validation", detail, errors=errors)
    agent = _agent(request)
    qf = QueueFilter.from_params(request.GET)
    if filters.q is not None and filters.q.strip():
        if agent is None:
            message = _("Searching needs a key that acts as an agent.")
            raise ApiProblem("validation", message, errors=[("q", message)])
        parsed = parse_query(filters.q)
        within = qf.apply(Ticket.objects.all())
        hits = search_query.search(agent, parsed, within=within, limit=filters.limit) if not parsed.is_empty else []
        answers = json_values.values_of([h.ticket for h in hits])
        return TicketPage(items=[ticket_out(h.ticket, answers[h.ticket.pk]) for h in hits], next=None)
    if filters.cursor:
        position = cursors.decode(filters.cursor, sort=qf.sort, key_id=_key(request).pk)
        qf.cursor = qf.read_cursor(position.value, position.pk)
    if agent is not None:
        base = selectors.queue_tickets(agent, filters.queue)
    elif filters.queue != "all":
        message = _("A system key lists all tickets; the other queues belong to an agent.")
        raise ApiProblem("validation", message, errors=[("queue", message)])
    else:
        base = Ticket.objects.all()
    rows = list(qf.page(base)[: filters.limit + 1])
    page = selectors.with_row_relations(rows[: filters.limit])
    next_cursor = None
    if len(rows) > filters.limit:
        value, pk = qf.cursor_of(page[-1])
        next_cursor = cursors.encode(cursors.Position(qf.sort, value, pk), key_id=_key(request).pk)
        response["Link"] = f'<{_next_link(request, next_cursor)}>; rel="next"'
    answers = json_values.values_of(page, end_user=agent is None)
    return TicketPage(items=[ticket_out(t, answers[t.pk]) for t in page], next=next_cursor)


# ---------------------------------------------------------------------------- read


@router.get(
    "/{number}",
    response={200: TicketDetail, **COMMON},
    url_name="ticket_get",
    summary="Read a ticket with its timeline",
    description="Agent keys see internal notes and events; system keys see what the requester sees.",
)
def ticket_get(request: HttpRequest, response: HttpResponse, number: Id) -> TicketDetail:
    require_scope(request, Scope.TICKETS_READ)
    ticket = _ticket(request, number)
    _with_etag(response, ticket)
    return _detail(request, ticket)


# ---------------------------------------------------------------------------- the conversation


@router.post(
    "/{number}/reply",
    response={201: EntryOut, **CHANGE},
    url_name="ticket_reply",
    summary="Reply (public)",
    description="From an agent key, a response; from a system key, a message from the requester.",
)
def ticket_reply(request: HttpRequest, response: HttpResponse, number: Id, payload: ReplyIn) -> Answer[EntryOut]:
    require_scope(request, Scope.TICKETS_WRITE)
    ticket = _ticket(request, number)
    agent = _agent(request)
    actor = agent.user if agent is not None else ticket.user
    if agent is None and payload.status_id is not None:
        require_agent(request)
    status = _row(Status, payload.status_id, "status_id", _("There is no such status."))
    uploads = _uploads(payload.attachments)
    with _changing(request, ticket, {"status": "status_id"}):
        entry = services.reply(
            actor,
            ticket,
            message=payload.message,
            uploads=uploads,
            status=status,
            source=Source.API,
            expected_version=etags.expected_version(request, ticket),
            signature=services.signature_choice(payload.signature),
        )
    _with_etag(response, _reread(ticket))
    return Answer(201, _entry_answer(ticket, entry))


@router.post(
    "/{number}/notes",
    response={201: EntryOut, **CHANGE},
    url_name="ticket_note",
    summary="Add an internal note",
)
def ticket_note(request: HttpRequest, response: HttpResponse, number: Id, payload: NoteIn) -> Answer[EntryOut]:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    uploads = _uploads(payload.attachments)
    with _changing(request, ticket):
        entry = services.add_note(
            actor,
            ticket,
            note=payload.note,
            uploads=uploads,
            source=Source.API,
            expected_version=etags.expected_version(request, ticket),
        )
    _with_etag(response, _reread(ticket))
    return Answer(201, _entry_answer(ticket, entry))


@router.post(
    "/{number}/attachments",
    response={201: EntryOut, **CHANGE},
    url_name="ticket_upload",
    summary="Upload files (multipart) with a reply or a note",
    description="multipart/form-data: `kind` (reply or note), `message`, and one or more `files`. "
    "JSON clients can send base64 files in `attachments` of a reply or note instead.",
)
def ticket_upload(
    request: HttpRequest,
    response: HttpResponse,
    number: Id,
    kind: Form[Literal["reply", "note"]],
    message: Form[Text],
    files: File[list[UploadedFile]],
) -> Answer[EntryOut]:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    # Django's UploadedFile names may be None in the stubs; a multipart part always has one.
    uploads = attachment_store.from_uploaded_files(cast(list[attachment_store.UploadedLike], files))
    with _changing(request, ticket, {"note": "message"}):
        expected = etags.expected_version(request, ticket)
        if kind == "note":
            entry = services.add_note(
                actor, ticket, note=message, uploads=uploads, source=Source.API, expected_version=expected
            )
        else:
            entry = services.reply(
                actor, ticket, message=message, uploads=uploads, source=Source.API, expected_version=expected
            )
    _with_etag(response, _reread(ticket))
    return Answer(201, _entry_answer(ticket, entry))


DOWNLOAD_RESPONSES = {
    "200": {
        "description": "The file's bytes, as the type it was stored with.",
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get(
    "/{number}/attachments/{attachment_id}",
    response={200: None, **COMMON},
    url_name="ticket_download_attachment",
    summary="Download an attached file",
    openapi_extra={"responses": DOWNLOAD_RESPONSES},
)
def ticket_download_attachment(request: HttpRequest, number: Id, attachment_id: Id) -> FileResponse:
    require_scope(request, Scope.TICKETS_READ)
    ticket = _ticket(request, number)
    found = selectors.attachment_with_ticket(attachment_id)
    missing = ApiProblem("not-found", _("This file does not exist or is not on a ticket this key can see."))
    if found is None or found.entry.ticket_id != ticket.pk:
        raise missing
    agent = _agent(request)
    if not (policy.can_see_entry(agent.user, found.entry) if agent is not None else found.entry.is_public):
        raise missing
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        raise ApiProblem("not-found", _("This file is missing from the attachment store.")) from None
    download = FileResponse(
        handle,
        as_attachment=True,
        filename=found.name,
        content_type=attachment_store.served_content_type(found.content_type),
    )
    download["X-Content-Type-Options"] = "nosniff"
    download["Cache-Control"] = "private, max-age=0"
    return download


# ---------------------------------------------------------------------------- who works it


def _agent_row(pk: int | None) -> Agent | None:
    if pk is None:
        return None
    found = Agent.objects.select_related("user").filter(pk=pk).first()
    if found is None:
        message = _("There is no such agent.")
        raise ApiProblem("validation", message, errors=[("agent_id", message)])
    return found


ROUTING_FIELDS = {"agent": "agent_id", "team": "team_id", "department": "department_id"}


def _changed(request: HttpRequest, response: HttpResponse, ticket: Ticket) -> TicketOut:
    ticket = _reread(ticket)
    _with_etag(response, ticket)
    return ticket_out(ticket, json_values.values_for(ticket, end_user=_agent(request) is None))


# ---------------------------------------------------------------------------- custom fields


@router.post(
    "/{number}/fields",
    response={200: TicketOut, **CHANGE},
    url_name="ticket_fields",
    summary="Change answers to custom fields",
    description=(
        "Agent keys whose agent may manage the ticket. Each changed field leaves a `field_changed` event; "
        "send the ETag in If-Match to refuse a change to a ticket changed since. Errors name `fields.<key>`."
    ),
)
def ticket_fields(request: HttpRequest, response: HttpResponse, number: Id, payload: FieldsIn) -> TicketOut:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    expected = etags.expected_version(request, ticket)
    with _changing(request, ticket, _field_renames(payload.fields)):
        cleaned = json_values.cleaned_for_edit(ticket, payload.fields)
        field_services.save_values(actor, ticket, cleaned, expected_version=expected)
    return _changed(request, response, ticket)


@router.post("/{number}/assign", response={200: TicketOut, **CHANGE}, url_name="ticket_assign", summary="Assign")
def ticket_assign(request: HttpRequest, response: HttpResponse, number: Id, payload: AssignIn) -> TicketOut:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    agent = _agent_row(payload.agent_id)
    team = _row(Team, payload.team_id, "team_id", _("There is no such team."))
    with _changing(request, ticket, ROUTING_FIELDS):
        services.assign(
            actor,
            ticket,
            agent=agent,
            team=team,
            note=payload.note,
            expected_version=etags.expected_version(request, ticket),
        )
    return _changed(request, response, ticket)


@router.post("/{number}/claim", response={200: TicketOut, **CHANGE}, url_name="ticket_claim", summary="Claim")
def ticket_claim(request: HttpRequest, response: HttpResponse, number: Id) -> TicketOut:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    with _changing(request, ticket):
        services.claim(actor, ticket, expected_version=etags.expected_version(request, ticket))
    return _changed(request, response, ticket)


@router.post("/{number}/release", response={200: TicketOut, **CHANGE}, url_name="ticket_release", summary="Release")
def ticket_release(request: HttpRequest, response: HttpResponse, number: Id) -> TicketOut:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    with _changing(request, ticket):
        services.release(actor, ticket, expected_version=etags.expected_version(request, ticket))
    return _changed(request, response, ticket)


@router.post("/{number}/transfer", response={200: TicketOut, **CHANGE}, url_name="ticket_transfer", summary="Transfer")
def ticket_transfer(request: HttpRequest, response: HttpResponse, number: Id, payload: TransferIn) -> TicketOut:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    department = _row(Department, payload.department_id, "department_id", _("There is no such department."))
    agent = _agent_row(payload.agent_id)
    team = _row(Team, payload.team_id, "team_id", _("There is no such team."))
    with _changing(request, ticket, ROUTING_FIELDS):
        services.transfer(
            actor,
            ticket,
            department=cast(Department, department),  # the id is required
            agent=agent,
            team=team,
            note=payload.note,
            expected_version=etags.expected_version(request, ticket),
        )
    return _changed(request, response, ticket)


@router.post(
    "/{number}/priority", response={200: TicketOut, **CHANGE}, url_name="ticket_priority", summary="Set the priority"
)
def ticket_priority(request: HttpRequest, response: HttpResponse, number: Id, payload: PriorityIn) -> TicketOut:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    priority = cast(Priority, _row(Priority, payload.priority_id, "priority_id", _("There is no such priority.")))
    with _changing(request, ticket, {"priority": "priority_id"}):
        expected = etags.expected_version(request, ticket)
        services.set_priority(actor, ticket, priority=priority, note=payload.note, expected_version=expected)
    return _changed(request, response, ticket)


@router.post(
    "/{number}/status",
    response={200: TicketOut, **CHANGE, 409: Problem},
    url_name="ticket_status",
    summary="Set the status",
    description="Closing a ticket with open tasks answers 409 unless `close_tasks` is true.",
)
def ticket_status(request: HttpRequest, response: HttpResponse, number: Id, payload: StatusIn) -> TicketOut:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    status = cast(Status, _row(Status, payload.status_id, "status_id", _("There is no such status.")))
    with _changing(request, ticket, {"status": "status_id"}):
        expected = etags.expected_version(request, ticket)
        try:
            services.set_status(
                actor,
                ticket,
                status=status,
                note=payload.note,
                expected_version=expected,
                confirm_close=payload.close_tasks,
            )
        except CloseRefused as exc:
            # Open tasks: a conflict with the ticket's state, settled by confirming.
            detail = _("%(why)s Send close_tasks: true to close them with the ticket.") % {"why": exc.detail}
            raise ApiProblem("conflict", detail, errors=[("close_tasks", exc.detail)]) from None
    return _changed(request, response, ticket)


# ---------------------------------------------------------------------------- collaborators


def _collaborators(ticket: Ticket) -> CollaboratorList:
    return CollaboratorList(collaborators=[_person(c.user) for c in selectors.collaborators(ticket)])


@router.post(
    "/{number}/collaborators",
    response={201: CollaboratorList, **CHANGE},
    url_name="ticket_add_collaborator",
    summary="Copy someone on the ticket",
    description="By email address; an address new to the desk becomes an end-user account.",
)
def ticket_add_collaborator(
    request: HttpRequest, response: HttpResponse, number: Id, payload: CollaboratorIn
) -> Answer[CollaboratorList]:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    with etags.holding(request, ticket), _changing(request, ticket):
        services.add_collaborator_by_email(actor, ticket, email=payload.email)
    _with_etag(response, _reread(ticket))
    return Answer(201, _collaborators(ticket))


@router.delete(
    "/{number}/collaborators/{user_id}",
    response={200: CollaboratorList, **CHANGE},
    url_name="ticket_remove_collaborator",
    summary="Stop copying someone",
)
def ticket_remove_collaborator(
    request: HttpRequest, response: HttpResponse, number: Id, user_id: Id
) -> CollaboratorList:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ApiProblem("not-found", _("There is no such person."))
    with etags.holding(request, ticket), _changing(request, ticket):
        services.remove_collaborator(actor, ticket, user=user)
    _with_etag(response, _reread(ticket))
    return _collaborators(ticket)


# ---------------------------------------------------------------------------- merge and links


def _other(request: HttpRequest, number: int, field: str) -> Ticket:
    """Another ticket named in the request: one the key cannot see is refused like one that
    does not exist (as bulk actions do), naming the field."""
    try:
        return _ticket(request, number)
    except ApiProblem:
        message = _("There is no ticket %(number)d, or this key may not see it.") % {"number": number}
        raise ApiProblem("validation", message, errors=[(field, message)]) from None


@router.post(
    "/{number}/merge",
    response={200: TicketOut, **CHANGE},
    url_name="ticket_merge",
    summary="Merge other tickets into this one",
)
def ticket_merge(request: HttpRequest, response: HttpResponse, number: Id, payload: MergeIn) -> TicketOut:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    sources = [_other(request, n, f"sources.{i}") for i, n in enumerate(payload.sources)]
    with _changing(request, ticket):
        services.merge(actor, ticket, sources=sources, expected_version=etags.expected_version(request, ticket))
    return _changed(request, response, ticket)


def _links(request: HttpRequest, ticket: Ticket) -> LinkOut:
    agent = cast(Agent, _agent(request))  # links are agent-only
    related, _merged = relations.related_and_merged(agent, ticket)
    return LinkOut(numbers=[t.number for t in related])


@router.post(
    "/{number}/links",
    response={201: LinkOut, **CHANGE},
    url_name="ticket_link",
    summary="Link a related ticket",
)
def ticket_link(request: HttpRequest, response: HttpResponse, number: Id, payload: LinkIn) -> Answer[LinkOut]:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    other = _other(request, payload.number, "number")
    with etags.holding(request, ticket), _changing(request, ticket):
        services.link(actor, ticket, other=other)
    _with_etag(response, _reread(ticket))
    return Answer(201, _links(request, ticket))


@router.delete(
    "/{number}/links/{other_number}",
    response={200: LinkOut, **CHANGE},
    url_name="ticket_unlink",
    summary="Unlink a related ticket",
)
def ticket_unlink(request: HttpRequest, response: HttpResponse, number: Id, other_number: Id) -> LinkOut:
    require_scope(request, Scope.TICKETS_WRITE)
    actor = require_agent(request)
    ticket = _ticket(request, number)
    other = _ticket(request, other_number)
    with etags.holding(request, ticket), _changing(request, ticket, {"number": "other_number"}):
        services.unlink(actor, ticket, other=other)
    _with_etag(response, _reread(ticket))
    return _links(request, ticket)
