"""The help topic, the one ticket property the other service modules do not already set.

A topic is a detail of the ticket (what it is about), so changing it takes the manage
permission (`policy.Action.TOPIC`); it does not move the ticket or alert anyone. The timeline
records it as a `topic` Event. Tests: tests/tickets/test_set_topic.py.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User

from ..models import EntryKind, EventKind, HelpTopic, Source, Ticket
from ..policy import Action
from .common import _entry, _event, _lock, _require, _touch, _validate_note
from .sla import due_change, sla_refresh

# Kept under its first name for the callers and tests that used it before it was a choice.
TOPIC_CHANGED = EventKind.TOPIC


def set_topic(
    actor: User,
    ticket: Ticket,
    *,
    topic: HelpTopic | None,
    note: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """Say what the ticket is about (or that no help topic fits: `topic=None`)."""
    denied = _("You cannot change this ticket's help topic.")
    _require(actor, Action.TOPIC, ticket, denied)
    if topic is not None and not topic.is_active:
        raise ValidationError({"topic": _("The help topic %(name)s is no longer in use.") % {"name": topic.name}})
    _validate_note(note)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Action.TOPIC, message=denied)
        if (topic.pk if topic is not None else None) == ticket.topic_id:
            if topic is None:
                raise ValidationError({"topic": _("The ticket has no help topic already.")})
            raise ValidationError({"topic": _("The help topic is already %(name)s.") % {"name": topic.name}})
        before = ticket.topic.name if ticket.topic is not None else ""
        due_before = ticket.due_at
        ticket.topic = topic
        changed = ["topic", *sla_refresh(ticket, now, replan=True)]  # the topic may name another plan
        _event(
            ticket,
            actor,
            TOPIC_CHANGED,
            before,
            topic.name if topic is not None else "",
            now=now,
            topic_id=topic.pk if topic is not None else None,
            **due_change(due_before, ticket),
        )
        if note.strip():
            _entry(ticket, actor, EntryKind.NOTE, note, Source.STAFF, now=now)
        _touch(ticket, now, *changed)
    return ticket
