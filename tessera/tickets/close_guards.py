"""What must be settled before a ticket closes, asked by the status service.

The core knows nothing of the apps that hang work on a ticket (tasks): such an app registers a
guard from its AppConfig.ready(), as the mail carrier does for notifications. `set_status` (and a
reply that closes) calls `check` inside its transaction, with the ticket row locked, whenever a
ticket moves into closed or archived. A guard either lets the close go on, refuses it with
`CloseRefused` (a ValidationError: what is still open, and how to confirm), or, when the agent
confirmed, settles its work in the same transaction (closing the open tasks) or refuses with
PermissionDenied naming what the agent may not close.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import ValidationError

from tessera.accounts.models import User

from .models import Ticket


class CloseRefused(ValidationError):
    """The ticket still has open work; `confirm_label` is what confirming does ("Close the ticket
    and its 2 open tasks"), for the page's button or the API's answer."""

    def __init__(self, message: str, *, confirm_label: str, count: int) -> None:
        super().__init__({"status": [message]}, code="open_work")
        self.confirm_label = confirm_label
        self.count = count
        self.detail = message


# guard(actor, ticket, confirmed, now): raise CloseRefused or PermissionDenied, or return.
Guard = Callable[[User | None, Ticket, bool, datetime], None]

_guards: list[Guard] = []


def register(guard: Guard) -> None:
    """Ask `guard` before every close (once, however often an app's ready() runs)."""
    if guard not in _guards:
        _guards.append(guard)


def check(actor: User | None, ticket: Ticket, *, confirmed: bool, now: datetime) -> None:
    for guard in _guards:
        guard(actor, ticket, confirmed, now)
