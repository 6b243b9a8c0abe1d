"""What the workspace remembers for agents: their saved queues."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SavedQueue(models.Model):
    """A filter and sort an agent saved as a personal queue; an administrator can share one
    with departments or teams. `params` holds the queue page's query parameters."""

    name = models.CharField(_("name"), max_length=80)
    owner = models.ForeignKey(
        "accounts.Agent", verbose_name=_("owner"), on_delete=models.CASCADE, related_name="saved_queues"
    )
    params = models.JSONField(_("filters and sort"), default=dict, blank=True)
    shared_with_departments = models.ManyToManyField(
        "accounts.Department", verbose_name=_("shared with departments"), blank=True, related_name="+"
    )
    shared_with_teams = models.ManyToManyField(
        "accounts.Team", verbose_name=_("shared with teams"), blank=True, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("saved queue")
        verbose_name_plural = _("saved queues")
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="savedqueue_owner_name")]

    def __str__(self) -> str:
        return self.name
