"""Who else hears about a ticket's timeline, once the change that wrote it is committed.

Why a registry: webhooks (and whatever comes next) must see every timeline Event and thread
entry, but the core never imports an adapter. An adapter registers a callback here from its
`AppConfig.ready()`; `services/common._event` and `_entry` report what they write, and the
callbacks get it all at once after the commit: one `Batch` per atomic block, not a call per
row, and nothing at all for a change that rolled back.

Each batch also knows, per ticket, where it stands in the ticket's history (`Batch.version`):
callbacks run after the commit, in whatever order the processes get there, so a listener that
must keep a ticket's changes in order (webhooks) needs the order the commits had, and every
change holds the ticket's row lock while it writes, so its version then is that order.

A listener also says whether it wants anything right now (`wants`, e.g. "is there an active
subscription?", answered from a per-process memo): when none does, recording costs one call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from .models import Event, ThreadEntry, Ticket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Written:
    """A thread entry as written; `opening` marks a new ticket's first message."""

    entry: ThreadEntry
    opening: bool = False


@dataclass
class Batch:
    """What one committed atomic block wrote: timeline Events and thread entries, in the order
    they were written."""

    items: list[Event | Written] = field(default_factory=list)
    # Per ticket: its version in the transaction when the batch first heard of it (read under the
    # change's row lock), and the instance the change wrote through, which `_touch` updates
    # with the version it commits.
    heard: dict[int, tuple[int, Ticket | None]] = field(default_factory=dict)

    @property
    def events(self) -> list[Event]:
        return [item for item in self.items if isinstance(item, Event)]

    @property
    def entries(self) -> list[Written]:
        return [item for item in self.items if isinstance(item, Written)]

    def version(self, ticket_id: int) -> tuple[int, bool] | None:
        """The ticket's version as this batch committed it, and whether the batch moved it
        there (False for a change that does not bump the version, such as an SLA alert: it comes
        after the change that made that version and before the one that makes the next)."""
        if ticket_id not in self.heard:
            return None
        heard, ticket = self.heard[ticket_id]
        committed = ticket.version if ticket is not None and isinstance(ticket.version, int) else heard
        opened = any(isinstance(i, Written) and i.opening and i.entry.ticket_id == ticket_id for i in self.items)
        return (max(heard, committed), committed > heard or opened)  # opening makes the first version


Listener = Callable[[Batch], None]
Wants = Callable[[], bool]

_listeners: dict[str, tuple[Listener, Wants]] = {}


def register(name: str, callback: Listener, *, wants: Wants | None = None) -> None:
    """Called from an AppConfig.ready(); registering the same name again replaces it."""
    _listeners[name] = (callback, wants or (lambda: True))


def unregister(name: str) -> None:
    _listeners.pop(name, None)


def _anyone_listening() -> bool:
    return any(wants() for _callback, wants in _listeners.values())


class _Pending:
    def __init__(self, block: object | None) -> None:
        self.block = block
        self.batch = Batch()
        self.done = False
        self.hook = self.flush  # one bound method, found again by identity in run_on_commit

    def flush(self) -> None:
        self.done = True
        batch = self.batch
        for name, (callback, _wants) in list(_listeners.items()):
            try:
                callback(batch)
            except Exception:
                # A listener must never undo or break a change that is already committed.
                log.exception("Ticket listener %s failed", name)


_state = threading.local()


def _pending() -> _Pending:
    """The batch the innermost atomic block gathers into, opened (with its one commit hook) on
    first use. A rolled-back block drops its hook, and the batch with it."""
    connection = transaction.get_connection()
    blocks: list[object] = connection.atomic_blocks
    block = blocks[-1]
    pending: _Pending | None = getattr(_state, "pending", None)
    if (
        pending is not None
        and not pending.done
        and pending.block is block
        and any(func is pending.hook for _sids, func, _robust in connection.run_on_commit)
    ):
        return pending
    pending = _state.pending = _Pending(block)
    # robust: a failure is logged, never raised to the caller, whose change is committed.
    transaction.on_commit(pending.hook, robust=True)
    return pending


def _hear(batch: Batch, item: Event | Written) -> None:
    row = item.entry if isinstance(item, Written) else item
    batch.items.append(item)
    if row.ticket_id in batch.heard:
        return
    ticket = row.ticket if type(row).ticket.is_cached(row) else None
    version = Ticket.objects.filter(pk=row.ticket_id).values_list("version", flat=True).first()
    batch.heard[row.ticket_id] = (version or 0, ticket)


def _add(item: Event | Written) -> None:
    if not _anyone_listening():
        return
    if transaction.get_connection().in_atomic_block:
        _hear(_pending().batch, item)
        return
    now = _Pending(None)  # autocommit: the row is already committed
    _hear(now.batch, item)
    now.flush()


def event_written(event: Event) -> None:
    _add(event)


def entry_written(entry: ThreadEntry, *, opening: bool = False) -> None:
    _add(Written(entry, opening))
