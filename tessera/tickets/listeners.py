"""Who else hears about a ticket's timeline, once the change that wrote it is committed.

Why a registry: webhooks (and whatever comes next) must see every timeline Event and thread
entry, but the core never imports an adapter. An adapter registers a callback here from its
`AppConfig.ready()`; `services/common._event` and `_entry` report what they write, and the
callbacks get it all at once after the commit: one `Batch` per atomic block, not a call per
row, and nothing at all for a change that rolled back.

A listener also says whether it wants anything right now (`wants`, e.g. "is there an active
subscription?", answered from a per-process memo): when none does, recording costs one call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from .models import Event, ThreadEntry

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

    @property
    def events(self) -> list[Event]:
        return [item for item in self.items if isinstance(item, Event)]

    @property
    def entries(self) -> list[Written]:
        return [item for item in self.items if isinstance(item, Written)]


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


def _add(item: Event | Written) -> None:
    if not _anyone_listening():
        return
    if transaction.get_connection().in_atomic_block:
        _pending().batch.items.append(item)
        return
    now = _Pending(None)  # autocommit: the row is already committed
    now.batch.items.append(item)
    now.flush()


def event_written(event: Event) -> None:
    _add(event)


def entry_written(entry: ThreadEntry, *, opening: bool = False) -> None:
    _add(Written(entry, opening))
