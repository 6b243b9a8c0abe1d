"""A survey is the one question a ticket's requester is asked; a rating is their answer.

Why two rows: the survey is what makes "once per ticket" true (a unique survey per ticket,
whatever happens to the ticket afterwards), it waits for its mail (`due_at`, `mailed_at`), and it
remembers who worked the ticket when it was resolved, so a rating given days later still credits
the agent who did the work, not whoever holds the ticket then. The rating copies the agent and
department for reports that never join the survey.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MIN_SCORE = 1
MAX_SCORE = 5
MAX_COMMENT = 2000


class Survey(models.Model):
    ticket = models.OneToOneField(
        "tickets.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="satisfaction_survey"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requester"), on_delete=models.CASCADE, related_name="+"
    )
    agent = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("agent at resolution"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("resolved at"), default=timezone.now)
    due_at = models.DateTimeField(_("mail due at"), default=timezone.now)
    mailed_at = models.DateTimeField(_("mailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        # The mail job's question, "which surveys wait for their mail?", reads only these rows.
        indexes = [
            models.Index(fields=["due_at"], condition=models.Q(mailed_at__isnull=True), name="survey_mail_due"),
        ]

    def __str__(self) -> str:
        return f"survey {self.ticket_id}"

    @property
    def asked_at(self) -> datetime:
        """When the requester was asked: by mail, else (not mailed yet) on the portal from the start."""
        return self.mailed_at or self.created_at


class Rating(models.Model):
    survey = models.OneToOneField(Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="rating")
    ticket = models.OneToOneField(
        "tickets.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="satisfaction_rating"
    )
    agent = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ratings",
    )
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), max_length=MAX_COMMENT, blank=True)
    rated_at = models.DateTimeField(_("rated at"), default=timezone.now)
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=MIN_SCORE, score__lte=MAX_SCORE), name="rating_score_1_to_5"
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "-rated_at"], name="rating_agent_recent"),
            models.Index(fields=["department", "-rated_at"], name="rating_department_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 on {self.ticket_id}"
