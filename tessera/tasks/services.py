"""Every change to a task happens here.

Each service takes the acting user first, asks tickets.policy (can_create_task, can_task),
re-reads the task under a row lock and refuses stale forms (`StaleTask`), writes a TaskEvent,
and, for a task on a ticket, a line on the ticket's timeline through the ticket services
(`record_task_event`: only they write ticket Events); assignments and notes queue alerts on
commit (tasks.notifications). `close_guard` is what a ticket's close asks
(tickets.close_guards, registered in apps.py). Tests: tests/tasks/test_task_services.py,
tests/tasks/test_closing_tickets_with_tasks.py.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tessera.accounts.models import Agent, Department, Team, User
from tessera.audit import services as audit
from tessera.tickets import notifications, policy, services
from tessera.tickets.close_guards import CloseRefused
from tessera.tickets.content import clean_line, from_text
from tessera.tickets.models import EventKind, State, Ticket
from tessera.tickets.policy import TaskAction

from . import notifications as alerts
from .models import Task, TaskEntry, TaskEvent, TaskEventKind, TaskState

FIRST_TASK_NUMBER = 1
COUNTER = "task"


class StaleTask(ValidationError):
    """The task changed after the form was loaded; the caller shows the news and keeps the input."""


# ---------------------------------------------------------------------------- shared steps


def _require(actor: User, action: TaskAction, task: Task, message: str) -> None:
    if not policy.can_task(actor, action, task):
        raise PermissionDenied(message)


def _lock(task: Task, expected_version: int | None, actor: User, action: TaskAction, message: str) -> Task:
    """Re-read the task under a row lock, ask policy again about what is really there, and refuse
    stale edits."""
    # Only the task's own row is locked (PostgreSQL locks no outer-joined row).
    locked = Task.objects.select_for_update(of=("self",)).select_related(
        "ticket", "department", "assignee__user", "team"
    )
    fresh = locked.get(pk=task.pk)
    _require(actor, action, fresh, message)
    if expected_version is not None and fresh.version != expected_version:
        raise StaleTask(
            _("Task %(ref)s changed while you were working on it. Review it, then try again.")
            % {"ref": fresh.reference},
            code="stale",
        )
    return fresh


def _touch(task: Task, now: datetime, *fields: str) -> None:
    task.updated_at = now
    task.version = F("version") + 1
    # Django reads the new version back with the UPDATE (RETURNING), as for tickets.
    task.save(update_fields=["updated_at", "version", *fields])


def _record(
    task: Task, actor: User | None, kind: str, ticket_kind: str, now: datetime, **data: int | str | None
) -> TaskEvent:
    """The task's own event and, for a task on a ticket, the line on the ticket's timeline."""
    event = TaskEvent.objects.create(
        task=task,
        kind=kind,
        actor=actor,
        actor_name=actor.display_name if actor else _("System"),
        data=data,
        created_at=now,
    )
    if task.ticket_id is not None:
        services.record_task_event(
            actor,
            task.ticket,  # type: ignore[arg-type]  # ticket_id is set
            ticket_kind,
            task=f"{task.reference} {task.title}"[:255],
            now=now,
            task_id=task.pk,
            task_number=task.number,
            **{key: value for key, value in data.items() if key in ("to", "from")},
        )
    return event


def _alert_assignment(task: Task, actor: User, agent_id: int | None, team_id: int | None) -> None:
    """The assignment alert, queued only if the change commits (tickets.notifications.with_change)."""
    notifications.with_change(lambda: alerts.assigned(task.pk, actor.pk, agent_id, team_id))


def _title(title: str) -> str:
    cleaned = clean_line(title or "").strip()
    if not cleaned:
        raise ValidationError({"title": _("Give the task a title.")})
    if len(cleaned) > 255:
        raise ValidationError({"title": _("Keep the title under 255 characters.")})
    return cleaned


def _check_length(text: str, field: str) -> None:
    limit = settings.TESSERA["MAX_MESSAGE_LENGTH"]
    if len(text) > limit:
        raise ValidationError(
            {field: _("This is %(n)d characters long; the limit is %(limit)d.") % {"n": len(text), "limit": limit}}
        )


def _check_assignee(agent: Agent | None) -> None:
    if agent is not None and not (agent.is_active and agent.user.is_active):
        raise ValidationError({"assignee": _("%(agent)s is not an active agent.") % {"agent": agent.name}})


def assignment_label(agent: Agent | None, team: Team | None) -> str:
    if agent is not None and team is not None:
        return f"{agent.name} ({team.name})"
    if agent is not None:
        return agent.name
    return team.name if team is not None else _("nobody")


# ---------------------------------------------------------------------------- the services


def create_task(
    actor: User,
    *,
    title: str,
    description: str = "",
    ticket: Ticket | None = None,
    department: Department | None = None,
    assignee: Agent | None = None,
    team: Team | None = None,
    due_at: datetime | None = None,
) -> Task:
    """A task on `ticket` (its department by default) or, with no ticket, one of its own (then
    `department` is required). It may be assigned and given a due date as it is created."""
    denied = _("You cannot create tasks on this ticket.") if ticket else _("You cannot create tasks.")
    if not policy.can_create_task(actor, ticket=ticket):
        raise PermissionDenied(denied)
    clean_title = _title(title)
    _check_length(description or "", "description")
    _check_assignee(assignee)
    if department is None and ticket is None:
        raise ValidationError({"department": _("Choose the department the task belongs to.")})
    if team is not None and not team.is_active:
        raise ValidationError({"team": _("Team %(team)s is not active.") % {"team": team.name}})
    now = timezone.now()
    html, text = from_text(description) if (description or "").strip() else ("", "")
    with transaction.atomic():
        if ticket is not None:
            # Locked so that a close running at the same time sees this task, or this sees the close.
            ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
            if not policy.can_create_task(actor, ticket=ticket):
                raise PermissionDenied(denied)
        task = Task.objects.create(
            number=services.next_counter_value(COUNTER, FIRST_TASK_NUMBER),
            title=clean_title,
            description_html=html,
            description_text=text,
            ticket=ticket,
            department=department if department is not None else ticket.department,  # type: ignore[union-attr]
            assignee=assignee,
            team=team,
            due_at=due_at,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        _record(task, actor, TaskEventKind.CREATED, EventKind.TASK_CREATED, now)
        if assignee is not None or team is not None:
            _record(
                task,
                actor,
                TaskEventKind.ASSIGNED,
                EventKind.TASK_ASSIGNED,
                now,
                to=assignment_label(assignee, team),
                agent_id=assignee.pk if assignee else None,
                team_id=team.pk if team else None,
            )
            _alert_assignment(task, actor, assignee.pk if assignee else None, team.pk if team else None)
    return task


def update_task(
    actor: User,
    task: Task,
    *,
    title: str,
    description: str,
    due_at: datetime | None,
    expected_version: int | None = None,
) -> Task:
    """A new title, description or due date (the edit permission, on an open task)."""
    denied = _("You cannot edit this task.")
    _require(actor, TaskAction.EDIT, task, denied)
    clean_title = _title(title)
    _check_length(description or "", "description")
    now = timezone.now()
    with transaction.atomic():
        task = _lock(task, expected_version, actor, TaskAction.EDIT, denied)
        html, text = from_text(description) if (description or "").strip() else ("", "")
        changed = [
            name
            for name, old, new in (
                ("title", task.title, clean_title),
                ("description", task.description_text, text),
                ("due", task.due_at, due_at),
            )
            if old != new
        ]
        if not changed:
            raise ValidationError(_("Nothing was changed: the task is as it was."), code="unchanged")
        task.title, task.description_html, task.description_text, task.due_at = clean_title, html, text, due_at
        _record(task, actor, TaskEventKind.UPDATED, EventKind.TASK_UPDATED, now, changed=", ".join(changed))
        _touch(task, now, "title", "description_html", "description_text", "due_at")
    return task


def assign_task(
    actor: User,
    task: Task,
    *,
    agent: Agent | None,
    team: Team | None = None,
    expected_version: int | None = None,
) -> Task:
    """Hand the task to an agent and/or a team; both None takes it off everyone."""
    denied = _("You cannot assign this task.")
    _require(actor, TaskAction.ASSIGN, task, denied)
    _check_assignee(agent)
    if team is not None and not team.is_active:
        raise ValidationError({"team": _("Team %(team)s is not active.") % {"team": team.name}})
    now = timezone.now()
    with transaction.atomic():
        task = _lock(task, expected_version, actor, TaskAction.ASSIGN, denied)
        agent_id, team_id = (agent.pk if agent else None), (team.pk if team else None)
        if (agent_id, team_id) == (task.assignee_id, task.team_id):
            raise ValidationError(
                {"assignee": _("The task is already assigned to %(who)s.") % {"who": assignment_label(agent, team)}}
            )
        task.assignee, task.team = agent, team
        _record(
            task,
            actor,
            TaskEventKind.ASSIGNED,
            EventKind.TASK_ASSIGNED,
            now,
            to=assignment_label(agent, team),
            agent_id=agent_id,
            team_id=team_id,
        )
        _touch(task, now, "assignee", "team")
        _alert_assignment(task, actor, agent_id, team_id)
    return task


def transfer_task(actor: User, task: Task, *, department: Department, expected_version: int | None = None) -> Task:
    """Move the task to another department (its assignment stays)."""
    denied = _("You cannot transfer this task.")
    _require(actor, TaskAction.TRANSFER, task, denied)
    now = timezone.now()
    with transaction.atomic():
        task = _lock(task, expected_version, actor, TaskAction.TRANSFER, denied)
        if department.pk == task.department_id:
            raise ValidationError(
                {"department": _("The task is already in %(department)s.") % {"department": department.name}}
            )
        before = task.department.name
        task.department = department
        _record(
            task,
            actor,
            TaskEventKind.TRANSFERRED,
            EventKind.TASK_TRANSFERRED,
            now,
            to=department.name,
            before=before,
            department_id=department.pk,
        )
        _touch(task, now, "department")
    return task


def add_task_note(actor: User, task: Task, *, note: str, expected_version: int | None = None) -> TaskEntry:
    """A note on the task's thread (the note permission; closed tasks take notes too)."""
    denied = _("You cannot add notes to this task.")
    _require(actor, TaskAction.NOTE, task, denied)
    if not (note or "").strip():
        raise ValidationError({"note": _("Write a note first.")})
    _check_length(note, "note")
    now = timezone.now()
    with transaction.atomic():
        task = _lock(task, expected_version, actor, TaskAction.NOTE, denied)
        body_html, body_text = from_text(note)
        entry = TaskEntry.objects.create(
            task=task,
            author=actor,
            author_name=actor.display_name,
            body_html=body_html,
            body_text=body_text,
            created_at=now,
        )
        _record(task, actor, TaskEventKind.NOTE, EventKind.TASK_NOTE, now, entry_id=entry.pk)
        _touch(task, now)
        notifications.with_change(lambda: alerts.note_added(task.pk, actor.pk, entry))
    return entry


def _close_locked(actor: User | None, task: Task, now: datetime, **data: int | str | None) -> None:
    task.state = TaskState.CLOSED
    task.closed_at = now
    _record(task, actor, TaskEventKind.CLOSED, EventKind.TASK_CLOSED, now, **data)
    _touch(task, now, "state", "closed_at")


def close_task(actor: User, task: Task, *, expected_version: int | None = None) -> Task:
    denied = _("You cannot close task %(ref)s.") % {"ref": task.reference}
    _require(actor, TaskAction.CLOSE, task, denied)
    now = timezone.now()
    with transaction.atomic():
        task = _lock(task, expected_version, actor, TaskAction.CLOSE, denied)
        _close_locked(actor, task, now)
    return task


def reopen_task(actor: User, task: Task, *, expected_version: int | None = None) -> Task:
    """Open a closed task again; a closed ticket's tasks stay closed until the ticket reopens."""
    denied = _("You cannot reopen task %(ref)s.") % {"ref": task.reference}
    _require(actor, TaskAction.REOPEN, task, denied)
    now = timezone.now()
    with transaction.atomic():
        task = _lock(task, expected_version, actor, TaskAction.REOPEN, denied)
        ticket = task.ticket
        if ticket is not None and ticket.state in (State.CLOSED, State.ARCHIVED):
            raise ValidationError(
                _("Ticket %(ref)s is closed: reopen the ticket before its tasks.") % {"ref": ticket.reference},
                code="ticket_closed",
            )
        task.state = TaskState.OPEN
        task.closed_at = None
        _record(task, actor, TaskEventKind.REOPENED, EventKind.TASK_REOPENED, now)
        _touch(task, now, "state", "closed_at")
    return task


# ---------------------------------------------------------------------------- closing the ticket


def close_guard(actor: User | None, ticket: Ticket, confirmed: bool, now: datetime) -> None:
    """Asked by the ticket's status service (inside its transaction, ticket row locked) before it
    closes or archives `ticket`: with open tasks, refuse unless `confirmed`; confirmed, close them
    all with it, or refuse naming those the agent may not close. A requester who closes their
    own ticket on the portal knows nothing of the desk's tasks: they are left as they are. The
    desk itself (no actor: auto-close of a quiet resolved ticket) never confirms, so a ticket
    whose tasks are still being worked stays resolved until they are done."""
    if actor is not None and not policy.acts_as_agent(actor, ticket):
        return
    open_tasks = list(Task.objects.select_for_update().filter(ticket=ticket, state=TaskState.OPEN).order_by("number"))
    if not open_tasks:
        return
    count = len(open_tasks)
    refs = ", ".join(t.reference for t in open_tasks)
    if not confirmed or actor is None:
        raise CloseRefused(
            ngettext(
                "Ticket %(ticket)s has an open task (%(tasks)s). Close it with the ticket, or finish it first.",
                "Ticket %(ticket)s has %(count)d open tasks (%(tasks)s). Close them with the ticket, or finish "
                "them first.",
                count,
            )
            % {"ticket": ticket.reference, "count": count, "tasks": refs},
            confirm_label=ngettext(
                "Close the ticket and its open task", "Close the ticket and its %(count)d open tasks", count
            )
            % {"count": count},
            count=count,
        )
    for task in open_tasks:
        task.ticket = ticket  # the locked row, for policy and the timeline line
    refused = [t for t in open_tasks if not policy.can_task(actor, TaskAction.CLOSE, t)]
    if refused:
        raise PermissionDenied(
            ngettext(
                "You cannot close task %(tasks)s, so ticket %(ticket)s stays open. Ask someone who may close "
                "tasks in its department.",
                "You cannot close tasks %(tasks)s, so ticket %(ticket)s stays open. Ask someone who may close "
                "tasks in their departments.",
                len(refused),
            )
            % {"tasks": ", ".join(t.reference for t in refused), "ticket": ticket.reference}
        )
    for task in open_tasks:
        _close_locked(actor, task, now, with_ticket="yes")


# ---------------------------------------------------------------------------- merging, deleting


def move_with_merge(actor: User, source: Ticket, target: Ticket, now: datetime) -> None:
    """Asked by the merge service (tickets.merge_hooks, both tickets locked): the source's tasks,
    open or closed, go on with the ticket it is merged into, keeping their numbers, each with a
    line on both histories. The merge already needed the merge permission on both tickets."""
    for task in Task.objects.select_for_update().filter(ticket=source).order_by("number"):
        task.ticket = target
        _record(
            task,
            actor,
            TaskEventKind.MOVED,
            EventKind.TASK_MOVED,
            now,
            to=target.reference,
            **{"from": source.reference},
        )
        _touch(task, now, "ticket")


def delete_task(actor: User, task: Task, *, expected_version: int | None = None) -> None:
    """Remove a task with its notes and history (the delete permission, as osTicket's). Its
    ticket keeps a line saying so, and the audit log keeps who deleted what."""
    denied = _("You cannot delete task %(ref)s.") % {"ref": task.reference}
    _require(actor, TaskAction.DELETE, task, denied)
    now = timezone.now()
    with transaction.atomic():
        task = _lock(task, expected_version, actor, TaskAction.DELETE, denied)
        if task.ticket is not None:
            services.record_task_event(
                actor,
                task.ticket,
                EventKind.TASK_DELETED,
                task=f"{task.reference} {task.title}"[:255],
                now=now,
                task_number=task.number,
            )
        audit.record(
            audit.Action.CHANGE,
            actor=actor,
            obj=task,
            before={"number": task.number, "title": task.title},
            detail="deleted",
        )
        task.delete()
