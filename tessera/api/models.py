"""API keys: how another system is let in, and as whom.

A key is shown once, when it is made, and only its SHA-256 digest is kept. A slow password hash
would buy nothing here: the secret is 256 random bits, not something a person chose, and the
digest is looked up on every request.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    TICKETS_READ = "tickets:read", _("read tickets")
    TICKETS_WRITE = "tickets:write", _("open and change tickets")
    USERS_READ = "users:read", _("read users and organisations")
    USERS_WRITE = "users:write", _("create and change users and organisations")
    ADMIN = "admin", _("change the desk's set-up (departments, teams, topics, priorities, statuses)")
    OSTICKET = "osticket", _("open tickets through the osTicket-compatible endpoints")


class ApiKey(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    prefix = models.CharField(
        _("key starts with"), max_length=12, help_text=_("The first characters of the key, to tell keys apart.")
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    agent = models.ForeignKey(
        "accounts.Agent",
        verbose_name=_("acts as agent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_keys",
        help_text=_(
            "The key sees and may do only what this agent could. Leave empty for a system integration, "
            "limited by its scopes alone."
        ),
    )
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    allowed_ips = models.JSONField(
        _("allowed addresses"),
        default=list,
        blank=True,
        help_text=_("Addresses and CIDR ranges the key may be used from. Empty: any address."),
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    rate_limit = models.PositiveIntegerField(_("requests per minute"), default=600, help_text=_("0 means no limit."))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes
