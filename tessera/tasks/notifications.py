"""Who hears about a change to a task, once it has been committed (osTicket's task alerts).

The task services call `assigned` and `note_added` through tickets.notifications.with_change,
so the alert is queued only if the change commits and a failure to queue never breaks it. The
`deliver` task works out the recipients from the committed task and hands each one to the
carrier the mail app registers (tessera.mail.notices.TaskMailCarrier), as ticket notices do.

Who is told (the alert settings, tickets.AlertSetting, are per ticket event and have no task
rows): on an assignment, and on a task created with an assignee, the agent it went to, else the
team's active members; on a note, the task's assignee, else its team. Never the person who made
the change, never an inactive agent, never one who cannot see the task (tickets.policy.can_task).
Tests: tests/tasks/test_task_alerts.py.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.tasks import task

from tessera.accounts.models import Agent, User
from tessera.tickets import policy
from tessera.tickets.policy import TaskAction

from .models import Task, TaskEntry

log = logging.getLogger(__name__)

ASSIGNED = "task_assigned_alert"
NOTE = "task_note_alert"


class TaskCarrier(Protocol):
    """Takes a task alert to one person; registered by the app that provides it (mail)."""

    def send(self, notice: str, task: Task, user: User, extra: dict[str, Any]) -> bool:
        """Send the alert to `user`; False when it is not sent to them."""
        ...


_carrier: TaskCarrier | None = None


def register_carrier(carrier: TaskCarrier) -> None:
    """Called from an AppConfig.ready(); registering again replaces the carrier."""
    global _carrier
    _carrier = carrier


def carrier() -> TaskCarrier:
    if _carrier is None:
        raise ImproperlyConfigured("No task alert carrier is registered: is tessera.mail in INSTALLED_APPS?")
    return _carrier


def _team_members(team_id: int) -> list[User]:
    agents = Agent.objects.filter(teams__pk=team_id, is_active=True).select_related("user")
    return [a.user for a in agents]


def _handlers(task: Task, agent_id: int | None, team_id: int | None) -> list[User]:
    """The agent the task went to, else its team's members."""
    if agent_id is not None:
        agent = Agent.objects.select_related("user").filter(pk=agent_id, is_active=True).first()
        return [agent.user] if agent is not None else []
    return _team_members(team_id) if team_id is not None else []


def recipients(notice: str, task: Task, actor_id: int | None, extra: dict[str, Any]) -> list[User]:
    if notice == ASSIGNED:
        # Only while the task is still where this change put it: a later reassignment alerts anew.
        if (extra.get("agent_id"), extra.get("team_id")) != (task.assignee_id, task.team_id):
            return []
        users = _handlers(task, task.assignee_id, task.team_id)
    elif notice == NOTE:
        if not TaskEntry.objects.filter(pk=extra.get("entry_id") or 0, task_id=task.pk).exists():
            return []
        users = _handlers(task, task.assignee_id, task.team_id)
    else:
        raise ValueError(f"unknown task notice {notice}")
    seen: set[int] = set()
    chosen: list[User] = []
    for user in users:
        if user.pk == actor_id or user.pk in seen or not user.is_active:
            continue
        if not policy.can_task(user, TaskAction.VIEW, task):
            continue
        seen.add(user.pk)
        chosen.append(user)
    return chosen


@task()
def deliver(notice: str, task_id: int, actor_id: int | None, extra: dict[str, Any]) -> int:
    """Hand one committed change's alert to each person it concerns; returns how many were sent."""
    found = Task.objects.select_related("department", "assignee__user", "team", "ticket").filter(pk=task_id).first()
    if found is None:
        return 0
    to = carrier()
    sent = 0
    failed: Exception | None = None
    for user in recipients(notice, found, actor_id, extra):
        try:
            if to.send(notice, found, user, {**extra, "actor_id": actor_id}):
                sent += 1
        except Exception as exc:
            # One recipient's failure does not stop the others; the task still fails afterwards.
            log.exception("Could not send %s for task %s to %s", notice, found.number, user.pk)
            failed = failed or exc
    if failed is not None:
        raise failed
    return sent


def _enqueue(notice: str, task_id: int, actor_id: int | None, **extra: Any) -> None:
    try:
        deliver.enqueue(notice, task_id, actor_id, extra)
    except Exception:
        # Mail must never undo or break the change it reports.
        log.exception("Could not queue %s for task %s", notice, task_id)


# ---------------------------------------------------------------------------- called by services


def assigned(task_id: int, actor_id: int | None, agent_id: int | None, team_id: int | None) -> None:
    if agent_id is None and team_id is None:
        return  # taken off everyone: nobody to tell
    _enqueue(ASSIGNED, task_id, actor_id, agent_id=agent_id, team_id=team_id)


def note_added(task_id: int, actor_id: int | None, entry: TaskEntry) -> None:
    _enqueue(NOTE, task_id, actor_id, entry_id=entry.pk)
