"""Reopening on the customer's side (osTicket's "allow reopen", with a window per status).

A requester may reopen their resolved or closed ticket while its status allows it
(`Status.allow_reopen`) and, when the status names a window (`Status.reopen_days`), until that
many days after it was closed (resolved, if it never closed). After that, what the customer
writes does not wake the old conversation: it opens a new ticket linked to the old one, so the
desk sees a fresh request with its history one click away. The portal and mail both ask
`reply_or_follow_up`, so they cannot decide differently.

Tests: tests/portal/test_reopen.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User

from .. import attachments as attachment_store
from .. import notifications, policy
from ..models import EventKind, Source, State, ThreadEntry, Ticket, TicketLink
from .common import _event, _lock, _on_commit, _touch, default_status
from .conversation import reply
from .intake import open_ticket
from .sla import due_change, sla_refresh

FINISHED = (State.RESOLVED, State.CLOSED)


def reopen_deadline(ticket: Ticket) -> datetime | None:
    """Until when the customer may reopen this finished ticket; None: no limit (or not finished)."""
    days = ticket.status.reopen_days
    finished_at = ticket.closed_at or ticket.resolved_at
    if ticket.state not in FINISHED or days is None or finished_at is None:
        return None
    return finished_at + timedelta(days=days)


def may_reopen(ticket: Ticket, now: datetime | None = None) -> bool:
    """Does the ticket's status still let its customer reopen it? Tickets that are not finished
    are open already; archived and merged ones never reopen from the customer's side."""
    if ticket.state not in FINISHED or ticket.merged_into_id is not None:
        return False
    if not ticket.status.allow_reopen:
        return False
    deadline = reopen_deadline(ticket)
    return deadline is None or (now or timezone.now()) < deadline


def reopen_by_user(actor: User, ticket: Ticket, *, expected_version: int | None = None) -> Ticket:
    """The requester reopens their finished ticket from the Help Center, within the window."""
    denied = _("You cannot reopen this ticket.")
    if not policy.may_reopen_as_requester(actor, ticket):
        raise PermissionDenied(denied)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version)
        if not policy.may_reopen_as_requester(actor, ticket) or not may_reopen(ticket, now):
            raise PermissionDenied(
                _("This ticket can no longer be reopened. Write to us and we open a new ticket that refers to it.")
            )
        before, old_state, due_before = ticket.status, ticket.state, ticket.due_at
        ticket.status = default_status(State.OPEN)
        ticket.state = State.OPEN
        ticket.resolved_at = None
        ticket.closed_at = None
        sla_fields = sla_refresh(ticket, now)
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
        _touch(ticket, now, "status", "state", "resolved_at", "closed_at", *sla_fields)
        ticket_id, actor_id = ticket.pk, actor.pk
        _on_commit(lambda: notifications.status_changed(ticket_id, actor_id, old_state, State.OPEN))
    return ticket


@dataclass(frozen=True)
class Posted:
    """Where the customer's words went: onto `ticket`, or (follow_up) a new ticket linked to `previous`."""

    ticket: Ticket
    entry: ThreadEntry
    previous: Ticket | None = None

    @property
    def follow_up(self) -> bool:
        return self.previous is not None


def needs_follow_up(actor: User, ticket: Ticket, now: datetime | None = None) -> bool:
    """Would a customer's reply to this ticket open a new one rather than reopen it?"""
    return ticket.state in FINISHED and not policy.acts_as_agent(actor, ticket) and not may_reopen(ticket, now)


def reply_or_follow_up(
    actor: User,
    ticket: Ticket,
    *,
    message: str,
    uploads: Sequence[attachment_store.Upload] = (),
    source: str = Source.WEB,
    expected_version: int | None = None,
    html: str | None = None,
    keep_refusal: bool = True,
) -> Posted:
    """A customer's reply: onto the ticket (which reopens it when finished, within the window),
    or, past the window, the opening message of a new ticket that links to this one. Mail passes
    `keep_refusal=False` (see open_ticket)."""
    if not needs_follow_up(actor, ticket):
        entry = reply(
            actor, ticket, message=message, uploads=uploads, source=source, expected_version=expected_version, html=html
        )
        return Posted(ticket, entry)
    if not policy.can(actor, policy.Action.REPLY, ticket):
        raise PermissionDenied(_("You cannot reply to this ticket."))
    with transaction.atomic():
        new = open_ticket(
            actor,
            requester=actor,
            subject=ticket.subject,
            message=message,
            html=html,
            topic=ticket.topic,
            department=ticket.department,
            source=source,
            uploads=uploads,
            routed=True,  # the desk routed the first ticket; its follow-up goes the same way
            keep_refusal=keep_refusal,
        )
        _link_follow_up(actor, ticket, new)
    opening: ThreadEntry = new.opening_entry  # type: ignore[attr-defined]  # set by open_ticket
    return Posted(new, opening, previous=ticket)


def _link_follow_up(actor: User, old: Ticket, new: Ticket) -> None:
    """Both pages list the other under "Related tickets"; both timelines say why."""
    now = timezone.now()
    low, high = sorted((old.pk, new.pk))
    TicketLink.objects.get_or_create(ticket_id=low, other_id=high, defaults={"created_by": actor, "created_at": now})
    _event(new, actor, EventKind.LINKED, "", old.reference, now=now, ticket_id=old.pk, follow_up=True)
    _event(old, actor, EventKind.LINKED, "", new.reference, now=now, ticket_id=new.pk, follow_up=True)
    _touch(old, now)
