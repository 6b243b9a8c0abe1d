"""Webhook subscriptions, the deliveries queued for them, and each attempt to send one.

The secret is kept as it is, not hashed: signing needs the secret itself (an HMAC cannot be
made from a digest), so hiding it after the first view would protect nothing from anyone who
can read the database while forcing a rotation whenever a receiver's copy is lost. It is shown
on the subscription's page to superusers only, never in a list, and the audit log records only
that it changed (its name marks it secret).
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tessera.tickets.models import Ticket

from .events import WebhookEvent


def new_secret() -> str:
    """256 random bits, prefixed so a leaked one is recognisable in logs and scanners."""
    return "whsec_" + secrets.token_urlsafe(32)


class SubscriptionState(models.TextChoices):
    ACTIVE = "active", _("active")
    PAUSED = "paused", _("paused")


class Subscription(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.URLField(
        _("URL"),
        max_length=2000,
        help_text=_(
            "http or https, no user name or password in it. Addresses in private, loopback and "
            "link-local ranges are refused unless the desk's settings allow them."
        ),
    )
    events = models.JSONField(_("events"), default=list, help_text=_("What this receiver is sent."))
    secret = models.CharField(_("signing secret"), max_length=80, default=new_secret, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Told by email when the subscription pauses itself."),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=SubscriptionState.choices, default=SubscriptionState.ACTIVE
    )
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0, editable=False)
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True, editable=False)
    pause_reason = models.CharField(_("why it paused"), max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # local import: addresses reads settings and DNS; kept out of model loading
        from .addresses import validate_url

        validate_url(self.url)
        known = set(WebhookEvent.values)
        self.events = [e for e in dict.fromkeys(self.events or []) if e in known]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("given up")


class Delivery(models.Model):
    """One event for one receiver. Deliveries of one subscription and ticket go out in
    `sequence` order: a later one waits until the earlier one is delivered or given up."""

    uid = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE, related_name="deliveries"
    )
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="+")
    sequence = models.PositiveBigIntegerField(_("sequence"))
    event = models.CharField(_("event"), max_length=32, choices=WebhookEvent.choices)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(_("last response"), null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(_("last duration (ms)"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    redelivery_of = models.ForeignKey(
        "self", verbose_name=_("redelivery of"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "ticket", "sequence"], name="webhook_delivery_order")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["-created_at"], name="webhook_delivery_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.uid}"


class Attempt(models.Model):
    """The log of one try: what the receiver answered and how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("at"))
    response_code = models.PositiveSmallIntegerField(_("response"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.response_code or self.error}"
