"""Who did what, when and from where: the append-only audit log, and the sign-in sessions
each person has open (Django's session table cannot be listed per user)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnly(Exception):
    """Raised on any attempt to change or remove an audit entry: the log is append-only."""


class Action(models.TextChoices):
    SIGN_IN = "sign_in", _("Signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
    LOCKOUT = "lockout", _("Locked out")
    LOCKOUT_LIFTED = "lockout_lifted", _("Lockout lifted")
    SIGN_OUT = "sign_out", _("Signed out")
    IDLE_SIGN_OUT = "idle_sign_out", _("Signed out after inactivity")
    SESSION_ENDED = "session_ended", _("Session ended")
    ADMIN_ADD = "admin_add", _("Added in the admin")
    ADMIN_CHANGE = "admin_change", _("Changed in the admin")
    ADMIN_DELETE = "admin_delete", _("Deleted in the admin")
    ADMIN_ACTION = "admin_action", _("Admin action")
    CHANGE = "change", _("Changed")


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    """Reads only: bulk changes and deletions are refused like single ones."""

    def update(self, **kwargs: object) -> NoReturn:
        raise AppendOnly("Audit entries cannot be changed.")

    def delete(self) -> NoReturn:
        raise AppendOnly("Audit entries cannot be deleted.")

    def bulk_update(self, objs: Iterable[AuditEntry], fields: Iterable[str], batch_size: int | None = None) -> NoReturn:
        raise AppendOnly("Audit entries cannot be changed.")

    def _update(self, values: object) -> NoReturn:
        raise AppendOnly("Audit entries cannot be changed.")

    def _raw_delete(self, using: str | None) -> NoReturn:
        raise AppendOnly("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    """One thing that happened. Written only by audit.services.record(); never changed.

    The actor is kept as an id without a database constraint plus the label they had then,
    so removing a user neither rewrites nor loses the entries about them.
    """

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), null=True, blank=True, encoder=DjangoJSONEncoder)
    detail = models.TextField(_("detail"), blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        # Model.save() would otherwise reach the table through a plain manager.
        base_manager_name = "objects"
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor", "created_at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.object_repr or self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AppendOnly("Audit entries cannot be changed.")
        # An INSERT always: a row built with an existing id must fail, not overwrite it.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnly("Audit entries cannot be deleted.")


class UserSession(models.Model):
    """A signed-in browser: lets a person see and end their sessions (audit.sessions)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("signed in"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("signed-in session")
        verbose_name_plural = _("signed-in sessions")
        ordering = ["-last_seen"]
        indexes = [models.Index(fields=["user", "last_seen"], name="usersession_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.created_at:%Y-%m-%d %H:%M}"
