"""The reads for task pages: one task as an agent may see it, a ticket's tasks, a task's thread,
and the task queues, each a fixed number of queries.

Queues page by keyset (updated_at, id), newest activity first, like the ticket queues: the
cursor is the last row's pair, so a deep page costs what the first does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from django.db.models import Q, QuerySet

from tessera.accounts.models import Agent
from tessera.tickets import policy
from tessera.tickets.models import Ticket

from .models import Task, TaskEntry, TaskEvent, TaskState
from .sentences import task_event_sentence

PAGE_SIZE = 50
QUEUES = ("open", "mine")


def _tasks() -> QuerySet[Task]:
    return Task.objects.select_related("department", "assignee__user", "team", "ticket")


def task_for_agent(agent: Agent, number: int) -> Task | None:
    """The task with this number if `agent` may see it; None for one they may not, exactly as
    for one that does not exist (the page answers 404 either way)."""
    task = _tasks().select_related("created_by").filter(number=number).first()
    if task is None or policy.task_perms(agent.user, task) is None:
        return None
    return task


def ticket_tasks(ticket: Ticket) -> list[Task]:
    """A ticket's tasks for its page, open first then by number: one query."""
    rows = Task.objects.filter(ticket=ticket).select_related("assignee__user", "team", "department")
    tasks = sorted(rows, key=lambda t: (not t.is_open, t.number))
    for task in tasks:
        task.ticket = ticket  # already in hand: policy and links need no further query
    return tasks


def thread(task: Task) -> list[TaskEntry | TaskEvent]:
    """The task's notes and history, oldest first: two queries. Each event carries its sentence."""
    entries = list(TaskEntry.objects.filter(task=task).order_by("created_at", "id"))
    events = list(TaskEvent.objects.filter(task=task).order_by("created_at", "id"))
    for event in events:
        event.sentence = task_event_sentence(event)  # type: ignore[attr-defined]
    return sorted(chain(entries, events), key=lambda item: (item.created_at, isinstance(item, TaskEntry), item.pk))


@dataclass(frozen=True)
class Page:
    tasks: list[Task]
    next_cursor: str  # "" on the last page


def parse_cursor(raw: str) -> tuple[datetime, int] | None:
    """ "<ISO time>_<id>" from a previous page's link; None for anything else (first page)."""
    stamp, _sep, pk = (raw or "").rpartition("_")
    if not stamp or not pk.isdecimal() or len(raw) > 80:
        return None
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when, int(pk)


def queue(agent: Agent, which: str, cursor: str = "") -> Page:
    """A page of open tasks: "open", the tasks of the agent's departments and teams and those
    assigned to them; "mine", those assigned to the agent or their teams. One query."""
    qs = _tasks().filter(state=TaskState.OPEN)
    if which == "mine":
        qs = qs.filter(policy.assigned_tasks_q(agent))
    else:
        qs = qs.filter(policy.visible_tasks_q(agent, via_tickets=False))
    after = parse_cursor(cursor)
    if after is not None:
        when, pk = after
        qs = qs.filter(Q(updated_at__lt=when) | Q(updated_at=when, pk__lt=pk))
    rows = list(qs.order_by("-updated_at", "-id")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_cursor = f"{rows[-1].updated_at.isoformat()}_{rows[-1].pk}" if more and rows else ""
    return Page(rows, next_cursor)
