"""The steps every ticket service is made of, shared by the feature modules beside it.

A service asks policy (`_require`), re-reads the ticket under a row lock and refuses stale
forms (`_lock`, `StaleTicket`), writes its thread entry (`_entry`, which also keeps the search
document current) and timeline Events (`_event`), bumps the ticket's version (`_touch`) and
queues its notifications with the change (`_on_commit`). Keeping these in one place is what
makes every service behave the same way; new services are built from them too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera import process_memo
from tessera.accounts.models import User
from tessera.search.index import index_new_ticket, index_ticket

from .. import attachments as attachment_store
from .. import channel, listeners, notifications, policy
from ..content import clean_html, from_text
from ..models import Counter, Event, EventKind, Referral, State, Status, ThreadEntry, Ticket
from ..policy import Action

FIRST_TICKET_NUMBER = 100001


class StaleTicket(ValidationError):
    """The ticket changed after the form was loaded; the caller shows the news and keeps the input."""


def _deny(message: str) -> PermissionDenied:
    return PermissionDenied(message)


def _require(actor: User | None, action: Action, ticket: Ticket, message: str) -> None:
    if not policy.can(actor, action, ticket):
        raise _deny(message)


def _lock(
    ticket: Ticket,
    expected_version: int | None,
    *,
    actor: User | None = None,
    action: Action | None = None,
    message: str = "",
) -> Ticket:
    """Re-read the ticket under a row lock, check `action` again on what is really there
    (the caller's copy may predate a transfer or a close), and refuse stale edits."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if action is not None:
        _require(actor, action, locked, message)
    if expected_version is not None and locked.version != expected_version:
        raise StaleTicket(
            _("Ticket %(ref)s changed while you were working on it. Review the latest activity, then try again.")
            % {"ref": locked.reference},
            code="stale",
        )
    return locked


def _touch(ticket: Ticket, now: datetime, *fields: str) -> None:
    ticket.updated_at = now
    ticket.version = F("version") + 1
    # Django reads the new version back with the UPDATE (RETURNING): no refresh needed.
    ticket.save(update_fields=["updated_at", "version", *fields])


def _event(
    ticket: Ticket,
    actor: User | None,
    kind: str,
    before: str = "",
    after: str = "",
    *,
    now: datetime | None = None,
    **data: int | str | None,
) -> Event:
    if via := channel.current():
        data.setdefault("via", via)
    event = Event.objects.create(
        ticket=ticket,
        kind=kind,
        actor=actor,
        actor_name=actor.display_name if actor else _("System"),
        before=str(before)[:255],
        after=str(after)[:255],
        data=data,
        created_at=now or timezone.now(),
    )
    listeners.event_written(event)  # heard after the commit (webhooks), once per atomic block
    return event


def _on_commit(callback: Callable[[], None]) -> None:
    notifications.with_change(callback)


def _validate_body(text: str, field: str) -> None:
    if not (text or "").strip():
        raise ValidationError({field: _("Write a message first.")})
    _validate_length(text, field)


def _validate_note(note: str) -> None:
    """The optional note that explains an assignment, transfer or status change."""
    _validate_length(note or "", "note")


def _validate_length(text: str, field: str) -> None:
    limit = settings.TESSERA["MAX_MESSAGE_LENGTH"]
    if len(text) > limit:
        raise ValidationError(
            {field: _("This is %(n)d characters long; the limit is %(limit)d.") % {"n": len(text), "limit": limit}}
        )


def _entry(
    ticket: Ticket,
    actor: User | None,
    kind: str,
    text: str,
    source: str,
    uploads: Sequence[attachment_store.Upload] = (),
    now: datetime | None = None,
    html: str | None = None,
    opening: bool = False,
) -> ThreadEntry:
    # Mail arrives as HTML with a plain-text twin already made: keep its formatting rather than
    # reading the text as Markdown. Sanitising again costs little and guards every caller.
    body_html, body_text = (clean_html(html), text.replace("\r\n", "\n").strip()) if html else from_text(text)
    entry = ThreadEntry.objects.create(
        ticket=ticket,
        kind=kind,
        author=actor,
        author_name=actor.display_name if actor else "",
        body_html=body_html,
        body_text=body_text,
        source=source,
        created_at=now or timezone.now(),
    )
    if uploads:
        attachment_store.store(entry, list(uploads))
    # Every entry is written inside its service's transaction: so is its search document.
    if opening:
        index_new_ticket(ticket, entry.pk, entry.body_text)
    else:
        index_ticket(ticket.pk, written=(entry.pk, entry.body_text))
    listeners.entry_written(entry, opening=opening)
    return entry


@process_memo.memo("tickets.Status")
def _default_statuses() -> dict[str, Status]:
    """Each state's default status (else its first), read at most every few seconds per
    process: every ticket opened by mail needs one (tessera.process_memo)."""
    found: dict[str, Status] = {}
    for status in Status.objects.order_by("order", "name"):
        current = found.get(status.state)
        if current is None or (status.is_default and not current.is_default):
            found[status.state] = status
    return found


def default_status(state: str) -> Status:
    status = _default_statuses().get(state)
    if status is None:
        raise ValidationError(_("No status is configured for the “%(state)s” state.") % {"state": State(state).label})
    return status


def _next_number() -> int:
    return next_counter_value("ticket", FIRST_TICKET_NUMBER)


def next_counter_value(name: str, first: int) -> int:
    """The next value of the counter `name` (ticket numbers; task numbers use their own), the
    first being `first`. Call inside the creating transaction.

    The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) until commit,
    so concurrent creators queue here; the numbers' unique constraints back it up.
    One statement (RETURNING, both databases) where the ORM needed three."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Counter._meta.db_table} SET value = value + 1 WHERE name = %s RETURNING value",  # noqa: S608  the table name is the model's own, never input
            [name],
        )
        row = cursor.fetchone()
    if row is not None:
        number: int = row[0]  # the counter is a BigIntegerField
        return number
    Counter.objects.get_or_create(name=name, defaults={"value": first - 1})
    return next_counter_value(name, first)


def _keep_following(actor: User | None, ticket: Ticket) -> None:
    """An agent who sends a ticket out of their reach keeps following it (a referral)."""
    agent = actor.agent_or_none if actor else None
    if actor is None or agent is None or actor.is_superuser:
        return
    if not policy.access(agent, ticket).via_department and ticket.assignee_id != agent.pk:
        _referral, created = Referral.objects.get_or_create(ticket=ticket, agent=agent)
        if created:
            _event(ticket, actor, EventKind.REFERRED, after=agent.name, agent_id=agent.pk)
