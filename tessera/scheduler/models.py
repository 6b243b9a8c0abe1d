"""When each periodic job runs next, and what each run did.

Why in the database: every scheduler and worker process, on any machine, claims a job's run by a
conditional UPDATE of its `JobSchedule` row (a compare-and-set that works the same on SQLite and
PostgreSQL), so each interval runs once however many schedulers are started; and a failed job
stays visible to administrators, with its error, until it runs again successfully.
"""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.compiled_insert import CompiledInsert


class JobState(models.TextChoices):
    OK = "ok", _("Working")
    RETRYING = "retrying", _("Failed, will retry")
    FAILED = "failed", _("Failed")


class JobSchedule(models.Model):
    name = models.CharField(_("job"), max_length=100, unique=True)
    next_run_at = models.DateTimeField(_("next run"))
    state = models.CharField(_("state"), max_length=10, choices=JobState.choices, default=JobState.OK)
    attempts = models.PositiveIntegerField(
        _("failures in a row"), default=0, help_text=_("Reset by the next run that succeeds.")
    )
    last_error = models.TextField(_("last error"), blank=True)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RunOutcome(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class JobRun(models.Model):
    job = models.ForeignKey(JobSchedule, on_delete=models.CASCADE, related_name="runs", verbose_name=_("job"))
    # The time the run was due: each one is claimed once (the constraint below double-checks it).
    scheduled_for = models.DateTimeField(_("due at"))
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration = models.DurationField(_("duration"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=RunOutcome.choices, default=RunOutcome.RUNNING)
    attempt = models.PositiveIntegerField(_("attempt"), default=1)
    acted_on = models.IntegerField(_("items acted on"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    worker = models.CharField(_("run by"), max_length=200, blank=True, help_text=_("Host and process."))

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["job", "scheduled_for"], name="one_run_per_due_time")]
        indexes = [models.Index(fields=["started_at"], name="jobrun_started")]

    def __str__(self) -> str:
        return f"{self.job_id} @ {self.scheduled_for:%Y-%m-%d %H:%M:%S}"


class QueuedTask(CompiledInsert, DBTaskResult):  # type: ignore[type-arg]  # generic in its stubs only
    """django-tasks-db's task row, inserted through a statement compiled once (tessera.compiled_insert).

    With the database task backend every change writes one inside its own transaction (its
    notifications), so Django compiling that INSERT afresh was a twelfth of the CPU of a ticket
    opened through the API (issue 13). Same table, same columns: only the insert is cheaper."""

    class Meta:
        proxy = True
        verbose_name = _("queued task")
