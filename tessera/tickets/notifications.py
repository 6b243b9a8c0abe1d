"""Who is told what, once a change has been committed.

Services hand the functions at the bottom to `with_change`; each one enqueues the `deliver`
task, which works out the recipients from the committed data and hands the notice to the
carrier once per recipient (so each gets their own access link).

The carrier is how a notice reaches a person, and it is not the core's business: the core never
imports an adapter. The mail app registers its carrier (tessera.mail.notices, from
MailConfig.ready()), which records a Delivery and sends it in the background.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.tasks import task

from tessera.accounts.models import Agent, User

from .models import EntryKind, State, ThreadEntry, Ticket

log = logging.getLogger(__name__)

# What a notice carries besides the ticket and entry: ids and state names, since it travels in
# a task row as JSON (e.g. {"agent_id": 3, "team_id": None} for an assignment).
NoticeExtra = dict[str, int | str | None]


class Carrier(Protocol):
    """Takes notices to people. One is registered per process, by the app that provides it."""

    def declines(self, notice: str, ticket: Ticket, entry: ThreadEntry | None) -> bool:
        """True when this notice must reach nobody (e.g. no acknowledgement to an auto-reply)."""
        ...

    def send(self, notice: str, ticket: Ticket, user: User, entry: ThreadEntry | None, extra: NoticeExtra) -> bool:
        """Queue the notice for one person; False when it is not sent to them."""
        ...


_carrier: Carrier | None = None


def register_carrier(carrier: Carrier) -> None:
    """Called from an AppConfig.ready(); registering again replaces the carrier."""
    global _carrier
    _carrier = carrier


def carrier() -> Carrier:
    if _carrier is None:
        # Never a silent no-op: a desk that cannot tell anyone must fail where it is seen.
        raise ImproperlyConfigured("No notification carrier is registered: is tessera.mail in INSTALLED_APPS?")
    return _carrier


def _ticket(ticket_id: int) -> Ticket:
    # Relations load on first use, by primary key: a seven-table join cost PostgreSQL more to
    # plan (several ms, the ticket table has many indexes) than all the lookups together.
    return Ticket.objects.select_related("user").get(pk=ticket_id)


def _agents_of_department(ticket: Ticket) -> list[User]:
    agents = Agent.objects.filter(
        memberships__department_id=ticket.department_id, is_active=True, user__is_active=True
    ).select_related("user")
    return [a.user for a in agents]


def _followers(ticket: Ticket) -> list[User]:
    """The assignee and the agents who referred the ticket on: they hear about its updates."""
    users = []
    if ticket.assignee is not None and ticket.assignee.is_active:
        users.append(ticket.assignee.user)
    users += [r.agent.user for r in ticket.referrals.select_related("agent__user") if r.agent.is_active]
    return users


def _team_members(ticket: Ticket) -> list[User]:
    if ticket.team is None:
        return []
    return [a.user for a in ticket.team.members.filter(is_active=True).select_related("user")]


def _handlers(ticket: Ticket) -> list[User]:
    """Who works the ticket now: its assignee, else its team, else its department's agents."""
    if ticket.assignee is not None and ticket.assignee.is_active:
        return [ticket.assignee.user]
    if ticket.team_id:
        return _team_members(ticket)
    return _agents_of_department(ticket)


def _end_users(ticket: Ticket) -> list[User]:
    return [ticket.user] + [c.user for c in ticket.collaborators.select_related("user")]


def _unique(users: list[User], *, exclude: int | None) -> list[User]:
    seen: set[int] = set()
    result: list[User] = []
    for u in users:
        if u.pk == exclude or u.pk in seen or not u.is_active:
            continue
        seen.add(u.pk)
        result.append(u)
    return result


@task()
def deliver(
    notice: str | list[str],
    ticket_id: int,
    actor_id: int | None,
    entry_id: int | None = None,
    extra: NoticeExtra | None = None,
) -> int:
    """Work out who gets a kind of notice about a ticket and hand it to the carrier for each of
    them (the mail carrier records a Delivery and gives each its own background task): one
    message per recipient, so each gets their own access link and their own threading headers,
    and a recipient whose server refuses never holds up the others.

    `notice` may list several kinds caused by one change (a new ticket's acknowledgement and
    its alert): one task row instead of one each. A kind that fails does not stop the others;
    the task still fails afterwards, so the error is seen."""
    ticket = _ticket(ticket_id)
    entry = ThreadEntry.objects.select_related("author").filter(pk=entry_id).first() if entry_id else None
    extra = extra or {}
    queued, failed = 0, None
    for kind in [notice] if isinstance(notice, str) else notice:
        try:
            queued += _deliver_one(kind, ticket, actor_id, entry, extra)
        except Exception as exc:
            log.exception("Could not queue %s for ticket %s", kind, ticket.number)
            failed = failed or exc
    if failed is not None:
        raise failed
    return queued


def _deliver_one(
    notice: str, ticket: Ticket, actor_id: int | None, entry: ThreadEntry | None, extra: NoticeExtra
) -> int:
    to = carrier()
    if to.declines(notice, ticket, entry):
        return 0
    queued = 0
    for user in _recipients(notice, ticket, actor_id, entry, extra):
        if to.send(notice, ticket, user, entry, extra):
            queued += 1
    return queued


def _recipients(
    notice: str, ticket: Ticket, actor_id: int | None, entry: ThreadEntry | None, extra: NoticeExtra
) -> list[User]:
    if notice == "new_ticket":
        return _unique([ticket.user], exclude=None)
    if notice == "new_ticket_alert":
        return _unique(_agents_of_department(ticket), exclude=actor_id)
    if notice == "response":
        return _unique(_end_users(ticket), exclude=actor_id)
    if notice == "message_alert":
        # Whoever handles the ticket now, and the agents who referred it on: a referral
        # must not swallow the alert the handling department needs.
        return _unique(_handlers(ticket) + _followers(ticket), exclude=actor_id)
    if notice == "activity_alert":
        return _unique(_followers(ticket), exclude=actor_id)
    if notice == "assigned_alert":
        if agent_id := extra.get("agent_id"):
            return _unique([Agent.objects.select_related("user").get(pk=agent_id).user], exclude=actor_id)
        if extra.get("team_id") and ticket.team_id:
            return _unique(_team_members(ticket), exclude=actor_id)
        return []
    if notice == "transfer_alert":
        return _unique(_agents_of_department(ticket), exclude=actor_id)
    if notice in ("resolved", "closed"):
        # Everyone copied followed the conversation; they hear how it ended too.
        return _unique(_end_users(ticket), exclude=actor_id)
    raise ValueError(f"unknown notice {notice}")


def _enqueue(
    notice: str | list[str],
    ticket_id: int,
    actor_id: int | None,
    entry_id: int | None = None,
    **extra: int | str | None,
) -> None:
    try:
        deliver.enqueue(notice, ticket_id, actor_id, entry_id, extra)
    except Exception:
        # Mail must never undo or break the change that was already committed.
        log.exception("Could not queue %s for ticket %s", notice, ticket_id)


# ---------------------------------------------------------------------------- called by services


def with_change(queue: Callable[[], None]) -> None:
    """Queue a change's notifications (`queue` calls the functions below) so that they go out
    only if the change commits, and never break it.

    With the database task backend the task rows are written at once, inside the change's
    transaction: they commit with it or not at all, so no crash between the commit and the
    queueing can lose the mail, and no worker sees them before the commit. It also spares
    mail ingest a commit per notice. A savepoint keeps a failure to queue from undoing the
    change. Any other backend may run the task at once (the immediate one sends right away),
    so it is handed the work after the commit."""
    if not _queued_in_the_database():
        # robust: a notification that fails to queue is logged and never reaches the caller,
        # whose change is already committed.
        transaction.on_commit(queue, robust=True)
        return
    try:
        with transaction.atomic():
            queue()
    except Exception:
        log.exception("Could not queue notifications")


def _queued_in_the_database() -> bool:
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(deliver.get_backend(), DatabaseBackend)


def ticket_opened(ticket_id: int, entry_id: int, actor_id: int) -> None:
    # The acknowledgement goes to the requester even when they opened it (the actor).
    _enqueue(["new_ticket", "new_ticket_alert"], ticket_id, actor_id, entry_id)


def entry_posted(ticket_id: int, entry_id: int, actor_id: int, kind: str) -> None:
    if kind == EntryKind.RESPONSE:
        _enqueue(["response", "activity_alert"], ticket_id, actor_id, entry_id)
    elif kind == EntryKind.MESSAGE:
        _enqueue("message_alert", ticket_id, actor_id, entry_id)
    else:
        _enqueue("activity_alert", ticket_id, actor_id, entry_id)


def assigned(ticket_id: int, actor_id: int, agent_id: int | None, team_id: int | None) -> None:
    _enqueue("assigned_alert", ticket_id, actor_id, None, agent_id=agent_id, team_id=team_id)


def transferred(ticket_id: int, actor_id: int) -> None:
    _enqueue("transfer_alert", ticket_id, actor_id)


def status_changed(ticket_id: int, actor_id: int, old_state: str, new_state: str) -> None:
    if new_state == State.RESOLVED:
        _enqueue("resolved", ticket_id, actor_id)
    elif new_state == State.CLOSED:
        _enqueue("closed", ticket_id, actor_id)
    _enqueue("activity_alert", ticket_id, actor_id, None, old_state=old_state, new_state=new_state)
