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
import threading
from collections.abc import Callable
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.tasks import task

from tessera import process_memo
from tessera.accounts.models import Agent, User

from .models import ALERT_DEFAULTS, AlertEvent, AlertSetting, EntryKind, State, ThreadEntry, Ticket

log = logging.getLogger(__name__)

# What a notice carries besides the ticket and entry: ids and state names, since it travels in
# a task row as JSON (e.g. {"agent_id": 3, "team_id": None} for an assignment).
NoticeExtra = dict[str, Any]  # what a step adds to its notice: ids, the new state, flags


class Carrier(Protocol):
    """Takes notices to people. One is registered per process, by the app that provides it."""

    def declines(self, notice: str, ticket: Ticket, entry: ThreadEntry | None) -> bool:
        """True when this notice must reach nobody (e.g. no acknowledgement to an auto-reply)."""
        ...

    def send(self, notice: str, ticket: Ticket, user: User, entry: ThreadEntry | None, extra: dict[str, Any]) -> bool:
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
    agent = _assigned_agent(ticket)
    return ([agent] if agent is not None else []) + _referrers(ticket)


def _team_members(ticket: Ticket) -> list[User]:
    team = ticket.team
    return [a.user for a in team.members.filter(is_active=True).select_related("user")] if team is not None else []


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
    extra: dict[str, Any] | None = None,
) -> int:
    """The task rows queued before changes were delivered as one (`deliver_change`); kept so
    rows already waiting in a database queue still go out."""
    kinds = [notice] if isinstance(notice, str) else notice
    items = [{"notice": k, "actor_id": actor_id, "entry_id": entry_id, "extra": extra or {}} for k in kinds]
    return _deliver_items(ticket_id, items)


@task()
def deliver_change(ticket_id: int, items: list[dict[str, Any]]) -> int:
    """Work out who hears about one committed change to a ticket and hand each of them ONE
    notice (the mail carrier records a Delivery and gives each its own background task).

    `items` are the notices the change's steps asked for, in the order they happened (a reply
    that also resolves asks for "resolved" and "response"; a transfer to an agent for
    "transfer_alert" and "assigned_alert"). A person reached by several gets the one that
    matters most to them (`PRECEDENCE`), carrying what the others said (the new state, the
    transfer, the note), so one action never fills an inbox. People are told in the order of
    the first step that reached them."""
    return _deliver_items(ticket_id, items)


# Which notice a person gets when one change reaches them through several: a message someone
# wrote beats an alert, a personal assignment beats the department-wide transfer, and a bare
# state change is what is left when nothing else reached them.
PRECEDENCE = {
    "response": 0,
    "new_ticket": 0,
    "message_alert": 1,
    "assigned_alert": 2,
    "transfer_alert": 3,
    "new_ticket_alert": 4,
    "resolved": 5,
    "closed": 5,
    "activity_alert": 6,
    "sla_breach_alert": 2,
    "sla_warning_alert": 3,
}


def _deliver_items(ticket_id: int, items: list[dict[str, Any]]) -> int:
    ticket = _ticket(ticket_id)
    entry_ids = {item["entry_id"] for item in items if item.get("entry_id")}
    entries = {e.pk: e for e in ThreadEntry.objects.select_related("author").filter(pk__in=entry_ids)}
    to = carrier()
    reached: dict[int, tuple[User, list[int]]] = {}
    failed: Exception | None = None
    for index, item in enumerate(items):
        entry = entries.get(item.get("entry_id") or 0)
        try:
            if to.declines(item["notice"], ticket, entry):
                continue
            for user in _recipients(item["notice"], ticket, item.get("actor_id"), entry, item.get("extra") or {}):
                reached.setdefault(user.pk, (user, []))[1].append(index)
        except Exception as exc:
            # A kind that fails does not stop the others; the task still fails afterwards.
            log.exception("Could not queue %s for ticket %s", item["notice"], ticket.number)
            failed = failed or exc
    # The note given with an assignment or a transfer is its reason: everyone alerted about
    # the change reads it, not only the followers who get the note itself.
    note_id = next((pk for pk, e in entries.items() if e.kind == EntryKind.NOTE), None)
    queued = 0
    for user, indexes in reached.values():  # dicts keep insertion order: the order of the steps
        notice, entry, extra = _combine([items[i] for i in indexes], entries)
        if note_id and (entry is None or entry.pk != note_id):
            extra.setdefault("note_id", note_id)
        try:
            if to.send(notice, ticket, user, entry, extra):
                queued += 1
        except Exception as exc:
            log.exception("Could not queue %s for ticket %s to %s", notice, ticket.number, user.pk)
            failed = failed or exc
    if failed is not None:
        raise failed
    return queued


def _combine(
    items: list[dict[str, Any]], entries: dict[int, ThreadEntry]
) -> tuple[str, ThreadEntry | None, dict[str, Any]]:
    """One notice for one person out of the steps of a change that reached them: the most
    important one, with what the others add (a state change, a transfer, a note)."""
    ranked = sorted(
        range(len(items)),
        key=lambda i: (PRECEDENCE.get(items[i]["notice"], 9), not items[i].get("entry_id"), i),
    )
    main = items[ranked[0]]
    extra: dict[str, Any] = {}
    for item in items:
        extra.update({k: v for k, v in (item.get("extra") or {}).items() if k not in extra or v})
        if item.get("actor_id"):
            extra.setdefault("actor_id", item["actor_id"])
        if item["notice"] == "transfer_alert":
            extra["transferred"] = True
    extra.update({k: v for k, v in (main.get("extra") or {}).items() if v is not None})
    return main["notice"], entries.get(main.get("entry_id") or 0), extra


@process_memo.memo("tickets.AlertSetting")
def alert_groups() -> dict[str, frozenset[str]]:
    """Which groups hear about each event, as the administrator set it (AlertSetting, one row
    per event; today's behaviour for a row that is missing). Read for every alert, changed
    rarely: at most every few seconds per process (tessera.process_memo)."""
    found = {event: frozenset(g for g, on in groups.items() if on) for event, groups in ALERT_DEFAULTS.items()}
    for row in AlertSetting.objects.all():
        found[row.event] = frozenset(g for g in ALERT_GROUPS if getattr(row, g))
    return found


ALERT_GROUPS = ("assignee", "team", "department", "manager")


def _assigned_agent(ticket: Ticket) -> User | None:
    agent = ticket.assignee if ticket.assignee_id else None
    return agent.user if agent is not None and agent.is_active else None


def _manager(ticket: Ticket) -> list[User]:
    manager = ticket.department.manager
    return [manager.user] if manager is not None and manager.is_active else []


def _chosen(event: str, ticket: Ticket, *, handling: bool) -> list[User]:
    """The groups the administrator chose for `event`. With `handling` (messages and notes,
    which concern whoever works the ticket now) the team is told only while no agent has it,
    and the department's agents only while neither an agent nor a team has it."""
    groups = alert_groups().get(event, frozenset())
    agent = _assigned_agent(ticket)
    users: list[User] = []
    if "assignee" in groups and agent is not None:
        users.append(agent)
    if "team" in groups and ticket.team_id and not (handling and agent is not None):
        users += _team_members(ticket)
    if "department" in groups and not (handling and (agent is not None or ticket.team_id)):
        users += _agents_of_department(ticket)
    if "manager" in groups:
        users += _manager(ticket)
    return users


def _referrers(ticket: Ticket) -> list[User]:
    return [r.agent.user for r in ticket.referrals.select_related("agent__user") if r.agent.is_active]


def _recipients(
    notice: str, ticket: Ticket, actor_id: int | None, entry: ThreadEntry | None, extra: dict[str, Any]
) -> list[User]:
    if notice == "new_ticket":
        return _unique([ticket.user], exclude=None)
    if notice == "new_ticket_alert":
        return _unique(_chosen(AlertEvent.NEW_TICKET, ticket, handling=False), exclude=actor_id)
    if notice == "response":
        return _unique(_end_users(ticket), exclude=actor_id)
    if notice == "message_alert":
        # Whoever handles the ticket now, and the agents who referred it on: a referral
        # must not swallow the alert the handling department needs.
        chosen = _chosen(AlertEvent.NEW_MESSAGE, ticket, handling=True)
        return _unique(chosen + _referrers(ticket), exclude=actor_id)
    if notice == "activity_alert":
        if entry is not None and entry.kind == EntryKind.NOTE:
            chosen = _chosen(AlertEvent.INTERNAL_NOTE, ticket, handling=True)
            return _unique(chosen + _referrers(ticket), exclude=actor_id)
        return _unique(_followers(ticket), exclude=actor_id)
    if notice == "assigned_alert":
        groups = alert_groups().get(AlertEvent.ASSIGNMENT, frozenset())
        users: list[User] = []
        if extra.get("agent_id") and "assignee" in groups:
            users.append(Agent.objects.select_related("user").get(pk=extra["agent_id"]).user)
        if extra.get("team_id") and ticket.team_id and "team" in groups:
            users += _team_members(ticket)
        if "department" in groups:
            users += _agents_of_department(ticket)
        if "manager" in groups:
            users += _manager(ticket)
        return _unique(users, exclude=actor_id)
    if notice == "transfer_alert":
        return _unique(_chosen(AlertEvent.TRANSFER, ticket, handling=False), exclude=actor_id)
    if notice in ("sla_warning_alert", "sla_breach_alert"):
        # Whoever handles the ticket now (the assignee, else its team, else its department), and
        # for a breach the manager, as the administrator chose (AlertSetting).
        event = AlertEvent.OVERDUE if notice == "sla_breach_alert" else AlertEvent.WARNING
        return _unique(_chosen(event, ticket, handling=True), exclude=None)
    if notice in ("resolved", "closed"):
        # Everyone copied followed the conversation; they hear how it ended too.
        return _unique(_end_users(ticket), exclude=actor_id)
    raise ValueError(f"unknown notice {notice}")


class _Change:
    """The notices one transaction's steps ask for, delivered as one task per ticket.

    A service often takes several steps in one transaction (a reply that also resolves, a
    transfer straight to an agent, an assignment with a note), each announcing itself; gathered
    here, `deliver_change` can send each person one mail for the whole action."""

    def __init__(self) -> None:
        self.queues: list[Callable[[], None]] = []
        self.items: dict[int, list[dict[str, Any]]] = {}
        self.rows: dict[int, str] = {}  # ticket -> its task row, with the database backend
        self.done = False
        self.block = _innermost_block()
        self.marker: Callable[[], None] = self.flush

    def close(self) -> None:
        """The database backend's commit hook: its rows are written; later changes start anew."""
        self.done = True

    def flush(self) -> None:
        """After the commit (other backends): run the steps' queue calls, then one task each."""
        if self.done:
            return
        self.done = True
        with _collecting(self):
            for queue in self.queues:
                try:
                    queue()
                except Exception:
                    log.exception("Could not queue notifications")
        for ticket_id, items in self.items.items():
            try:
                deliver_change.enqueue(ticket_id, items)
            except Exception:
                # Mail must never undo or break the change that was already committed.
                log.exception("Could not queue notifications for ticket %s", ticket_id)

    def write_rows(self) -> None:
        """Inside the transaction (database backend): one task row per ticket, rewritten as
        later steps of the same change add to it; it commits with the change or not at all."""
        from django_tasks_db.models import DBTaskResult

        for ticket_id, items in self.items.items():
            row = self.rows.get(ticket_id)
            if row is not None and DBTaskResult.objects.filter(id=row).update(
                args_kwargs={"args": [ticket_id, items], "kwargs": {}}
            ):
                continue
            self.rows[ticket_id] = str(deliver_change.enqueue(ticket_id, items).id)


_state = threading.local()


class _collecting:
    def __init__(self, change: _Change) -> None:
        self.change = change

    def __enter__(self) -> None:
        _state.collecting = self.change

    def __exit__(self, *exc: object) -> None:
        _state.collecting = None


def _innermost_block() -> object | None:
    atomic_blocks: list[object] = transaction.get_connection().atomic_blocks
    return atomic_blocks[-1] if atomic_blocks else None


def _open_change() -> _Change | None:
    """The change the current atomic block already gathers notices in, if it is still
    pending: not yet delivered, and its commit hook not dropped by a rollback. Only steps
    taken in the same `atomic()` block are one action (a service's own steps); two services
    called one after the other in a wider transaction stay two changes."""
    change: _Change | None = getattr(_state, "change", None)
    if change is None or change.done or change.block is not _innermost_block():
        return None
    hooks = transaction.get_connection().run_on_commit
    return change if any(func is change.marker for _sids, func, _robust in hooks) else None


def _enqueue(
    notice: str | list[str], ticket_id: int, actor_id: int | None, entry_id: int | None = None, **extra: Any
) -> None:
    kinds = [notice] if isinstance(notice, str) else notice
    items = [{"notice": k, "actor_id": actor_id, "entry_id": entry_id, "extra": extra} for k in kinds]
    change: _Change | None = getattr(_state, "collecting", None)
    if change is not None:
        change.items.setdefault(ticket_id, []).extend(items)
        return
    try:
        deliver_change.enqueue(ticket_id, items)
    except Exception:
        # Mail must never undo or break the change that was already committed.
        log.exception("Could not queue %s for ticket %s", notice, ticket_id)


# ---------------------------------------------------------------------------- called by services


def with_change(queue: Callable[[], None]) -> None:
    """Queue a change's notifications (`queue` calls the functions below) so that they go out
    only if the change commits, and never break it. All the calls of one transaction are
    gathered (`_Change`), so each person gets one mail for the whole action.

    With the database task backend the task rows are written at once, inside the change's
    transaction: they commit with it or not at all, so no crash between the commit and the
    queueing can lose the mail, and no worker sees them before the commit. It also spares
    mail ingest a commit per notice. A savepoint keeps a failure to queue from undoing the
    change. Any other backend may run the task at once (the immediate one sends right away),
    so it is handed the work after the commit."""
    change = _open_change()
    fresh = change is None
    if change is None:
        change = _state.change = _Change()
    if not _queued_in_the_database():
        change.queues.append(queue)
        if fresh:
            # robust: a notification that fails to queue is logged and never reaches the
            # caller, whose change is already committed.
            transaction.on_commit(change.marker, robust=True)
        return
    if fresh:
        change.marker = change.close
        transaction.on_commit(change.marker, robust=True)
    try:
        with transaction.atomic(), _collecting(change):
            queue()
            change.write_rows()
    except Exception:
        log.exception("Could not queue notifications")


def _queued_in_the_database() -> bool:
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(deliver_change.get_backend(), DatabaseBackend)


def ticket_opened(
    ticket_id: int, entry_id: int, actor_id: int, *, acknowledge: bool = True, alert: bool = True
) -> None:
    # The acknowledgement goes to the requester even when they opened it (the actor), unless a
    # routing rule (or an osTicket API client's `autorespond`) said to send no automatic reply;
    # the agents' alert goes out unless the API client said `alert: false`.
    kinds = (["new_ticket"] if acknowledge else []) + (["new_ticket_alert"] if alert else [])
    if kinds:
        _enqueue(kinds, ticket_id, actor_id, entry_id)


def entry_posted(ticket_id: int, entry_id: int, actor_id: int, kind: str) -> None:
    if kind == EntryKind.RESPONSE:
        _enqueue(["response", "activity_alert"], ticket_id, actor_id, entry_id)
    elif kind == EntryKind.MESSAGE:
        _enqueue("message_alert", ticket_id, actor_id, entry_id)
    else:
        _enqueue("activity_alert", ticket_id, actor_id, entry_id)


def assigned(ticket_id: int, actor_id: int | None, agent_id: int | None, team_id: int | None) -> None:
    _enqueue("assigned_alert", ticket_id, actor_id, None, agent_id=agent_id, team_id=team_id)


def transferred(ticket_id: int, actor_id: int) -> None:
    _enqueue("transfer_alert", ticket_id, actor_id)


def status_changed(ticket_id: int, actor_id: int | None, old_state: str, new_state: str) -> None:
    if new_state == State.RESOLVED:
        _enqueue("resolved", ticket_id, actor_id, None, old_state=old_state, new_state=new_state)
    elif new_state == State.CLOSED:
        _enqueue("closed", ticket_id, actor_id, None, old_state=old_state, new_state=new_state)
    _enqueue("activity_alert", ticket_id, actor_id, None, old_state=old_state, new_state=new_state)


def sla_alert(ticket_id: int, target: str, *, breach: bool) -> None:
    """A target ("first_response" or "resolution") nearly due, or missed (the SLA scan)."""
    _enqueue("sla_breach_alert" if breach else "sla_warning_alert", ticket_id, None, None, target=target)
