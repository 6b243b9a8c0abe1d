"""What other apps carry over when a ticket is merged into another.

The merge service (services/merge_and_link.py) moves the ticket's own parts: thread, people,
links. Work that other apps hang on a ticket (tasks) would otherwise stay on a closed ticket
nobody looks at; such an app registers a hook from its AppConfig.ready(), as close_guards does,
and `run` calls it inside the merge's transaction with both ticket rows locked, before the
source closes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tessera.accounts.models import User

from .models import Ticket

# hook(actor, source, target, now): move what belongs to `source` onto `target`.
Hook = Callable[[User, Ticket, Ticket, datetime], None]

_hooks: list[Hook] = []


def register(hook: Hook) -> None:
    """Call `hook` on every merge (once, however often an app's ready() runs)."""
    if hook not in _hooks:
        _hooks.append(hook)


def run(actor: User, source: Ticket, target: Ticket, now: datetime) -> None:
    for hook in _hooks:
        hook(actor, source, target, now)
