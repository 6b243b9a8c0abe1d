"""Tasks: pieces of work on a ticket or on their own (osTicket's tasks). Changed through
tessera.tasks.services only; who may see and change them is tickets.policy's (task_perms)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TaskState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Task(models.Model):
    number = models.PositiveBigIntegerField(_("number"), unique=True, editable=False)
    title = models.CharField(_("title"), max_length=255)
    # Sanitised once on the way in (tickets.content.from_text), with its plain-text twin.
    description_html = models.TextField(_("description"), blank=True)
    description_text = models.TextField(_("description (plain text)"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="tasks"
    )
    assignee = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("assigned agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tasks",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("assigned team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=TaskState.choices, default=TaskState.OPEN)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Bumped on every change; forms carry it to detect stale edits."
    )

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            # The task queue (open tasks of my departments) and "My tasks", newest activity first.
            models.Index(fields=["department", "state", "-updated_at", "-id"], name="task_dept_state_upd"),
            models.Index(fields=["assignee", "state", "-updated_at", "-id"], name="task_assignee_state_upd"),
            models.Index(fields=["team", "state", "-updated_at", "-id"], name="task_team_state_upd"),
            # A ticket's tasks (the ticket page, the close guard).
            models.Index(fields=["ticket", "state"], name="task_ticket_state"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state == TaskState.OPEN

    @property
    def reference(self) -> str:
        return f"#{self.number}"


class TaskEntry(models.Model):
    """A note on a task's thread. body_html is sanitised on the way in; body_text is its twin."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="entries")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(_("author name"), max_length=150, blank=True)
    body_html = models.TextField(_("body"))
    body_text = models.TextField(_("plain text"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("task note")
        verbose_name_plural = _("task notes")
        indexes = [models.Index(fields=["task", "created_at", "id"], name="taskentry_task_created")]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body_text[:40]}"


class TaskEventKind(models.TextChoices):
    CREATED = "created", _("created")
    UPDATED = "updated", _("edited")
    ASSIGNED = "assigned", _("assigned")
    TRANSFERRED = "transferred", _("transferred")
    NOTE = "note", _("note added")
    CLOSED = "closed", _("closed")
    REOPENED = "reopened", _("reopened")
    MOVED = "moved", _("moved to another ticket")


class TaskEvent(models.Model):
    """The task's own history: who changed what, from what to what (names as they were then)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=TaskEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("task event")
        verbose_name_plural = _("task events")
        indexes = [models.Index(fields=["task", "created_at", "id"], name="taskevent_task_created")]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.get_kind_display()}"
