"""One change applied to many tickets at once, from the queue's bulk bar.

Bulk actions are not a second way to change tickets: every ticket goes through the same
single-ticket service as its own page (assign, transfer, set_priority, set_status, merge), so
each one gets its own permission check, its own lock and its own timeline Events. Each ticket
runs in its own transaction (a savepoint when the caller already holds one), so a refused or
failing ticket never undoes or stops the others; the result says which went through and why
the rest were refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from tessera.accounts.models import Agent, Department, Team, User

from . import policy, services
from .models import Priority, Status, Ticket

log = logging.getLogger(__name__)

ACTIONS = ("assign", "transfer", "priority", "status", "merge")
# More than this in one request is more than a page of any queue: refuse rather than run for minutes.
MAX_TICKETS = 500


@dataclass(frozen=True)
class Refusal:
    number: int
    reason: str


@dataclass
class BulkResult:
    """What happened to each selected ticket. `done` and `refused` keep the order of selection.

    For a merge, `target` is the surviving ticket (the first selected) and `done` lists the
    tickets merged into it."""

    action: str
    done: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    target: int | None = None


def bulk_apply(actor: User, numbers: Sequence[int], action: str, **params: Any) -> BulkResult:
    """Apply `action` to the tickets with these numbers, one ticket at a time.

    Parameters by action: assign: `agent` and/or `team`; transfer: `department`; priority:
    `priority`; status: `status` (and `close_tasks`: a ticket with open tasks is refused unless
    true, which closes them with it); merge: none (the first number is the ticket that survives,
    the others are merged into it, each on its own). A problem with the request itself (no
    tickets, an unknown action, a missing choice) raises ValidationError before any ticket is
    touched; a problem with one ticket becomes a Refusal and the others go on.
    """
    numbers = list(dict.fromkeys(numbers))
    if not numbers:
        raise ValidationError(_("Select at least one ticket first."), code="empty")
    if len(numbers) > MAX_TICKETS:
        raise ValidationError(_("Select at most %(max)d tickets at a time.") % {"max": MAX_TICKETS}, code="too_many")
    if action not in ACTIONS:
        raise ValidationError(_("Choose a bulk action."), code="action")
    if action != "merge":
        change = _change(action, params)
    elif len(numbers) < 2:
        raise ValidationError(_("Select two or more tickets to merge."), code="merge_one")

    tickets = _tickets(numbers)
    result = BulkResult(action)
    if action == "merge":
        target_number, numbers = numbers[0], numbers[1:]
        result.target = target_number
        target = _visible(actor, tickets.get(target_number))
        if target is None:
            result.refused.append(Refusal(target_number, _missing(target_number)))
            not_merged = _("Not merged: #%(target)s cannot be opened.") % {"target": target_number}
            result.refused.extend(Refusal(number, not_merged) for number in numbers)
            return result

        def change(actor: User, ticket: Ticket) -> None:
            # The service locks and re-reads the target for every ticket merged into it.
            services.merge(actor, target, sources=[ticket])

    for number in numbers:
        ticket = _visible(actor, tickets.get(number))
        if ticket is None:
            result.refused.append(Refusal(number, _missing(number)))
            continue
        try:
            with transaction.atomic():
                change(actor, ticket)
        except (PermissionDenied, ValidationError) as exc:
            result.refused.append(Refusal(number, _reason(exc)))
        except DatabaseError:
            # A deadlock or lost connection on one ticket is logged and reported; the rest go on.
            log.exception("Bulk %s failed on ticket %s", action, number)
            result.refused.append(Refusal(number, _("It could not be saved. Try again.")))
        else:
            result.done.append(number)
    return result


def _change(action: str, params: dict[str, Any]) -> Callable[[User, Ticket], Any]:
    """The single-ticket service call for `action`, with its choices checked once."""
    if action == "assign":
        agent: Agent | None = params.get("agent")
        team: Team | None = params.get("team")
        if agent is None and team is None:
            raise ValidationError(_("Choose the agent or team to assign the tickets to."), code="agent")
        return lambda actor, ticket: services.assign(actor, ticket, agent=agent, team=team)
    if action == "transfer":
        department: Department | None = params.get("department")
        if department is None:
            raise ValidationError(_("Choose the department to transfer the tickets to."), code="department")
        return lambda actor, ticket: services.transfer(actor, ticket, department=department)
    if action == "priority":
        priority: Priority | None = params.get("priority")
        if priority is None:
            raise ValidationError(_("Choose the new priority."), code="priority")
        return lambda actor, ticket: services.set_priority(actor, ticket, priority=priority)
    if action == "status":
        status: Status | None = params.get("status")
        if status is None:
            raise ValidationError(_("Choose the new status."), code="status")
        confirm = bool(params.get("close_tasks"))
        return lambda actor, ticket: services.set_status(actor, ticket, status=status, confirm_close=confirm)
    raise ValueError(action)


def _tickets(numbers: Sequence[int]) -> dict[int, Ticket]:
    """The selected tickets in one query, with what the services' messages and events name."""
    rows = Ticket.objects.filter(number__in=numbers).select_related(
        "status", "priority", "department", "assignee__user", "team"
    )
    return {t.number: t for t in rows}


def _visible(actor: User, ticket: Ticket | None) -> Ticket | None:
    # Bulk works only tickets the actor reaches as an agent. One they cannot see, or only requested
    # or are copied on (an agent from another department), is reported exactly like one that does not exist.
    return ticket if ticket is not None and policy.acts_as_agent(actor, ticket) else None


def _missing(number: int) -> str:
    return _("Ticket #%(number)s does not exist or is not in your departments.") % {"number": number}


def _reason(exc: PermissionDenied | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("You are not allowed to do that.")
