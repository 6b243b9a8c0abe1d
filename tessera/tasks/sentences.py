"""One readable, translatable sentence per task event, built from the names stored on it."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import TaskEvent, TaskEventKind


def _changed(raw: str) -> str:
    labels = {"title": _("title"), "description": _("description"), "due": _("due date")}
    return ", ".join(str(labels.get(part.strip(), part.strip())) for part in raw.split(",") if part.strip())


def task_event_sentence(event: TaskEvent) -> str:
    data = event.data or {}
    names = {
        "actor": event.actor_name or _("System"),
        "to": str(data.get("to") or ""),
        "before": str(data.get("before") or ""),
        "from": str(data.get("from") or ""),
        "changed": _changed(str(data.get("changed") or "")),
    }
    kind = event.kind
    if kind == TaskEventKind.CREATED:
        return _("%(actor)s created the task") % names
    if kind == TaskEventKind.UPDATED:
        return _("%(actor)s edited the task (%(changed)s)") % names
    if kind == TaskEventKind.ASSIGNED:
        return _("%(actor)s assigned the task to %(to)s") % names
    if kind == TaskEventKind.TRANSFERRED:
        return _("%(actor)s transferred the task from %(before)s to %(to)s") % names
    if kind == TaskEventKind.NOTE:
        return _("%(actor)s added a note") % names
    if kind == TaskEventKind.CLOSED:
        if data.get("with_ticket"):
            return _("%(actor)s closed the task with its ticket") % names
        return _("%(actor)s closed the task") % names
    if kind == TaskEventKind.REOPENED:
        return _("%(actor)s reopened the task") % names
    if kind == TaskEventKind.MOVED:
        return _("%(actor)s merged ticket %(from)s into %(to)s: the task moved with it") % names
    return _("%(actor)s: %(what)s") % {**names, "what": event.get_kind_display()}
