"""The Help Center's own settings: one row for the whole desk, edited in the admin."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Registration(models.TextChoices):
    """osTicket's three registration modes."""

    DISABLED = "disabled", _("Disabled: guests only, nobody signs up")
    PUBLIC = "public", _("Public: anyone may sign up and verify their address by mail")
    PRIVATE = "private", _("Private: only the help desk creates accounts")


class PortalSettings(models.Model):
    """A singleton (always pk 1): `load()` reads it, and a missing row reads as the defaults, so
    a desk whose row was deleted behaves like a new one rather than failing."""

    registration = models.CharField(
        _("registration"),
        max_length=16,
        choices=Registration.choices,
        default=Registration.PUBLIC,
        help_text=_(
            "Who may create a Help Center account. Guests can always open tickets by email or on the "
            "Help Center and follow them by link; people with an account also see all their tickets."
        ),
    )

    class Meta:
        verbose_name = _("Help Center settings")
        verbose_name_plural = _("Help Center settings")

    def __str__(self) -> str:
        return str(_("Help Center settings"))

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> PortalSettings:
        found = cls.objects.filter(pk=1).first()
        return found if found is not None else cls(pk=1)

    @property
    def public_registration(self) -> bool:
        return self.registration == Registration.PUBLIC
