"""What the desk does by itself: escalation rules on time, and the small state that makes
automatic assignment and escalation fair and exactly-once across processes.

Nothing here changes a ticket: tessera.automation.escalation and .autoclose decide, and the ticket
services (tessera/tickets/services/escalation.py, auto_close.py, auto_assign.py) write.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tessera.accounts.models import Agent, Department, Team
from tessera.tickets.models import Priority, Ticket


class AssignmentCursor(models.Model):
    """Where round robin stands in one department or team: the agent who got the last ticket.

    One row per scope ("department:<id>" or "team:<id>"), locked while the next agent is chosen,
    so every web process and worker takes its turn from the same place. A plain number, not a
    foreign key: an agent deleted since still marks the place in the order."""

    scope = models.CharField(max_length=40, unique=True)
    last_agent_pk = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("assignment turn")
        verbose_name_plural = _("assignment turns")

    def __str__(self) -> str:
        return self.scope


class Trigger(models.TextChoices):
    OVERDUE = "overdue", _("The ticket is overdue (its due time has passed)")
    NO_RESPONSE = "no_response", _("No agent has responded for a number of business minutes")


class PriorityChange(models.TextChoices):
    NONE = "", _("Leave the priority as it is")
    STEP = "step", _("Raise it one step")
    TO = "to", _("Raise it to the priority chosen below")


class EscalationRule(models.Model):
    """When a ticket is overdue or has waited too long for an agent, raise its priority, hand it
    to a team or agent and/or tell named agents. Acts once per ticket per breach (EscalationRun)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Only tickets of this department. Empty: every department."),
    )
    trigger = models.CharField(_("when"), max_length=12, choices=Trigger.choices, default=Trigger.OVERDUE)
    minutes = models.PositiveIntegerField(
        _("business minutes without an agent response"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1, message=_("Give 1 minute or more."))],
        help_text=_(
            "Counted on the ticket's SLA schedule (around the clock without a plan), from the last agent "
            "reply, or from when the ticket was opened if nobody has replied yet."
        ),
    )
    priority_change = models.CharField(
        _("priority"), max_length=4, choices=PriorityChange.choices, default=PriorityChange.NONE, blank=True
    )
    priority = models.ForeignKey(
        Priority,
        verbose_name=_("raise to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("A ticket already this urgent or more keeps its priority."),
    )
    assign_team = models.ForeignKey(
        Team, verbose_name=_("hand to team"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    assign_agent = models.ForeignKey(
        Agent,
        verbose_name=_("hand to agent"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Skipped when the agent is away, inactive or may not be assigned the ticket."),
    )
    notify = models.ManyToManyField(
        Agent,
        verbose_name=_("tell these agents"),
        blank=True,
        related_name="+",
        help_text=_("Each gets an email; agents who cannot see the ticket are not told."),
    )

    class Meta:
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.trigger == Trigger.NO_RESPONSE and not self.minutes:
            errors["minutes"] = _("Say after how many business minutes without a response the rule acts.")
        if self.priority_change == PriorityChange.TO and self.priority_id is None:
            errors["priority"] = _("Choose the priority to raise the ticket to.")
        if errors:
            raise ValidationError(errors)


class EscalationRun(models.Model):
    """One rule acting on one ticket for one breach, written before it acts: a second run, in
    this process or another, fails to insert the same row and leaves the ticket alone.

    `breach_key` is what the breach is counted from: the due time that passed (overdue) or the
    last agent response, else the ticket's opening (no response)."""

    rule = models.ForeignKey(EscalationRule, on_delete=models.CASCADE, related_name="runs")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    breach_key = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            models.UniqueConstraint(fields=["rule", "ticket", "breach_key"], name="escalation_once_per_breach")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.ticket_id} ({self.breach_key:%Y-%m-%d %H:%M})"
