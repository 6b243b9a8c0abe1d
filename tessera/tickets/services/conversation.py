"""The thread: public replies (an end user's message reopens a finished ticket) and internal notes.

Tests: tests/tickets/test_reply_and_notes.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User

from .. import attachments as attachment_store
from .. import notifications, policy
from ..models import EntryKind, EventKind, Source, State, Status, ThreadEntry, Ticket
from ..policy import Action
from .common import _entry, _event, _lock, _on_commit, _require, _touch, _validate_body, default_status
from .sla import due_change, note_first_response, sla_refresh
from .status import _apply_status


def reply(
    actor: User,
    ticket: Ticket,
    *,
    message: str,
    uploads: Sequence[attachment_store.Upload] = (),
    status: Status | None = None,
    source: str = Source.WEB,
    expected_version: int | None = None,
    append_signature: bool = False,
    html: str | None = None,
    signature: str | None = None,
) -> ThreadEntry:
    """A public reply. From an agent it is a response, signed as asked: `signature` is "none",
    "agent" (their own) or "department" (the ticket's department's); without it,
    `append_signature=True` means "agent" (older callers). An empty signature adds nothing. From
    the end user, a message (which reopens a pending, resolved or closed ticket)."""
    choice = signature_choice(signature if signature is not None else append_signature)
    denied = _("You cannot reply to this ticket.")
    _require(actor, Action.REPLY, ticket, denied)
    _validate_body(message, "message")
    attachment_store.validate_uploads(list(uploads))
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Action.REPLY, message=denied)
        if policy.acts_as_agent(actor, ticket):
            signed = signature_text(choice, actor, ticket)
            if signed:
                message = f"{message.rstrip()}\n\n{signed}"
                html = None  # the signature is typed text: render the whole reply from text
            entry = _entry(ticket, actor, EntryKind.RESPONSE, message, source, uploads, now, html)
            late = note_first_response(ticket, now)
            ticket.last_response_at = now
            ticket.first_response_at = ticket.first_response_at or now
            ticket.is_answered = True
            fields = ["last_response_at", "first_response_at", "is_answered", *late]
        else:
            entry = _entry(ticket, actor, EntryKind.MESSAGE, message, source, uploads, now, html)
            ticket.last_message_at = now
            ticket.is_answered = False
            fields = ["last_message_at", "is_answered"]
            if ticket.state in (State.RESOLVED, State.CLOSED, State.PENDING):
                before = ticket.status
                was_pending = ticket.state == State.PENDING
                due_before = ticket.due_at
                ticket.status = default_status(State.OPEN)
                ticket.state = State.OPEN
                ticket.resolved_at = None
                ticket.closed_at = None
                sla_fields = sla_refresh(ticket, now)  # the customer answered: the desk's clock runs again
                if not was_pending:
                    _event(ticket, actor, EventKind.REOPENED, before.name, ticket.status.name, now=now)
                _event(
                    ticket,
                    actor,
                    EventKind.STATUS,
                    before.name,
                    ticket.status.name,
                    now=now,
                    state=State.OPEN,
                    **due_change(due_before, ticket),
                )
                fields += ["status", "state", "resolved_at", "closed_at", *sla_fields]
        if status is not None and status.pk != ticket.status_id:
            fields += _apply_status(actor, ticket, status, now)
        _touch(ticket, now, *dict.fromkeys(fields))
        _on_commit(lambda: notifications.entry_posted(ticket.pk, entry.pk, actor.pk, entry.kind))
    return entry


SIGNATURE_CHOICES = ("none", "agent", "department")


def signature_choice(value: str | bool | None) -> str:
    """ "none", "agent" or "department" from what callers send: the choice itself, or the older
    yes/no (yes: the agent's own). Anything else is refused."""
    if value is True:
        return "agent"
    if value is False or value is None:
        return "none"
    if value in SIGNATURE_CHOICES:
        return value
    raise ValidationError({"signature": _("Choose no signature, yours or the department's.")})


def signature_text(choice: str, actor: User, ticket: Ticket) -> str:
    """The signature a response ends with: the agent's own or the ticket's department's."""
    if choice == "agent":
        agent = actor.agent_or_none
        return agent.signature.strip() if agent is not None else ""
    if choice == "department":
        return ticket.department.signature.strip()
    return ""


def add_note(
    actor: User,
    ticket: Ticket,
    *,
    note: str,
    uploads: Sequence[attachment_store.Upload] = (),
    expected_version: int | None = None,
    source: str = Source.STAFF,
    html: str | None = None,
) -> ThreadEntry:
    """An internal note: agents only, never shown to the end user. An agent's email about the
    ticket becomes one too (source EMAIL, with its HTML)."""
    denied = _("You cannot add notes to this ticket.")
    _require(actor, Action.NOTE, ticket, denied)
    _validate_body(note, "note")
    attachment_store.validate_uploads(list(uploads))
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Action.NOTE, message=denied)
        entry = _entry(ticket, actor, EntryKind.NOTE, note, source, uploads, now, html)
        _event(ticket, actor, EventKind.NOTE, now=now, entry_id=entry.pk)
        _touch(ticket, now)
        _on_commit(lambda: notifications.entry_posted(ticket.pk, entry.pk, actor.pk, entry.kind))
    return entry
