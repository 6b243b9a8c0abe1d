"""Routing rules (osTicket's "filters"): ordered conditions on a new ticket and what to do then.

The rows are the administrator's; `tessera/rules/engine.py` reads them once per process
(compiled) and the ticket services apply what it decides. Nothing here changes a ticket.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Bounds that keep a rule (and the text it is matched against) from costing intake much.
VALUE_MAX_LENGTH = 500
ACTION_TEXT_MAX_LENGTH = 1000


class Match(models.TextChoices):
    ALL = "all", _("all conditions")
    ANY = "any", _("any condition")


class Field(models.TextChoices):
    CHANNEL = "channel", _("channel")
    SENDER = "sender", _("sender address")
    SENDER_DOMAIN = "sender_domain", _("sender domain")
    RECIPIENT = "recipient", _("recipient address (the mailbox the email came to)")
    SUBJECT = "subject", _("subject")
    BODY = "body", _("message text")
    TOPIC = "topic", _("help topic")
    ORGANIZATION = "organization", _("organisation")
    PRIORITY = "priority", _("priority")
    CUSTOM = "custom", _("custom field (as answered with the ticket)")


class Operator(models.TextChoices):
    EQUALS = "equals", _("equals")
    NOT_EQUALS = "not_equals", _("does not equal")
    CONTAINS = "contains", _("contains")
    NOT_CONTAINS = "not_contains", _("does not contain")
    STARTS_WITH = "starts_with", _("starts with")
    ENDS_WITH = "ends_with", _("ends with")
    REGEX = "regex", _("matches regular expression")
    ONE_OF = "one_of", _("is one of (comma-separated)")


class ActionKind(models.TextChoices):
    DEPARTMENT = "department", _("set department")
    PRIORITY = "priority", _("set priority")
    SLA_PLAN = "sla_plan", _("set SLA plan")
    TEAM = "team", _("assign to team")
    AGENT = "agent", _("assign to agent")
    STATUS = "status", _("set status")
    TOPIC = "topic", _("set help topic")
    COLLABORATORS = "collaborators", _("copy addresses (collaborators)")
    NO_AUTO_REPLY = "no_auto_reply", _("send no automatic reply")
    REJECT = "reject", _("reject the ticket")


# The model field that holds each kind's target; the kinds missing here use `text` or nothing.
TARGET_FIELDS = {
    ActionKind.DEPARTMENT: "department",
    ActionKind.PRIORITY: "priority",
    ActionKind.SLA_PLAN: "sla_plan",
    ActionKind.TEAM: "team",
    ActionKind.AGENT: "agent",
    ActionKind.STATUS: "status",
    ActionKind.TOPIC: "topic",
}


class Rule(models.Model):
    name = models.CharField(_("name"), max_length=120)
    order = models.PositiveIntegerField(_("order"), default=0, help_text=_("Rules run from the lowest number up."))
    is_active = models.BooleanField(_("active"), default=True)
    match = models.CharField(_("match"), max_length=3, choices=Match.choices, default=Match.ALL)
    stop_processing = models.BooleanField(
        _("stop processing further rules"),
        default=False,
        help_text=_("When this rule matches, later rules do not run."),
    )
    match_count = models.PositiveBigIntegerField(_("times matched"), default=0, editable=False)
    last_matched_at = models.DateTimeField(_("last matched"), null=True, blank=True, editable=False)
    last_error = models.CharField(_("last problem"), max_length=500, blank=True, editable=False)
    last_error_at = models.DateTimeField(_("last problem at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class Condition(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="conditions")
    field = models.CharField(_("field"), max_length=20, choices=Field.choices)
    # A custom field's key (tessera/customfields), for the "custom" field; kept as text so a rule
    # outlives the field (a condition on a field no longer answered never matches).
    field_key = models.CharField(_("custom field"), max_length=64, blank=True)
    operator = models.CharField(_("operator"), max_length=20, choices=Operator.choices)
    value = models.CharField(_("value"), max_length=VALUE_MAX_LENGTH)

    class Meta:
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        ordering = ["pk"]

    def __str__(self) -> str:
        what = self.field_key if self.field == Field.CUSTOM else self.get_field_display()
        return f"{what} {self.get_operator_display()} {self.value}"


class Action(models.Model):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(_("action"), max_length=20, choices=ActionKind.choices)
    # One target per kind (TARGET_FIELDS); a target deleted since leaves the action doing nothing.
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    priority = models.ForeignKey(
        "tickets.Priority",
        verbose_name=_("priority"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sla_plan = models.ForeignKey(
        "sla.SlaPlan", verbose_name=_("SLA plan"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        "accounts.Agent", verbose_name=_("agent"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.ForeignKey(
        "tickets.Status", verbose_name=_("status"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    topic = models.ForeignKey(
        "tickets.HelpTopic",
        verbose_name=_("help topic"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.CharField(
        _("addresses or reason"),
        max_length=ACTION_TEXT_MAX_LENGTH,
        blank=True,
        help_text=_(
            "Copy addresses: the addresses, separated by commas. Reject: the reason, shown to the sender "
            "on the portal and kept with the refused message."
        ),
    )

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["pk"]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class Refusal(models.Model):
    """A submission a rule rejected, kept for the administrator (mail is also kept as refused
    `mail.InboundMessage`, with its raw bytes)."""

    created_at = models.DateTimeField(_("when"), default=timezone.now, editable=False)
    rule = models.ForeignKey(Rule, verbose_name=_("rule"), null=True, on_delete=models.SET_NULL, related_name="+")
    rule_name = models.CharField(_("rule name"), max_length=120)
    channel = models.CharField(_("channel"), max_length=16)
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    message = models.TextField(_("message"), blank=True)
    reason = models.CharField(_("reason"), max_length=ACTION_TEXT_MAX_LENGTH, blank=True)

    class Meta:
        verbose_name = _("refused submission")
        verbose_name_plural = _("refused submissions")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.rule_name}: {self.subject}"
