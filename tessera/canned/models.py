"""Canned responses: answers agents insert into a reply, shared with everyone or with
departments, with files that travel with the reply they are inserted into.

The body is written like a reply (Markdown or plain text) and may name variables such as
%{ticket.number}; tessera.canned.variables fills them in for one ticket, never through a
template engine."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tessera.accounts.models import Department, User


class CannedResponse(models.Model):
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    # Empty: shared with everyone (every department's tickets).
    departments: models.ManyToManyField[Department, Any] = models.ManyToManyField(
        Department, verbose_name=_("shared with departments"), related_name="+", blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    usage_count = models.PositiveIntegerField(_("times used"), default=0)
    created_by = models.ForeignKey(
        User, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["title", "pk"]

    def __str__(self) -> str:
        return self.title


def canned_file_path(instance: CannedAttachment, filename: str) -> str:
    # Content-addressed like the tickets' attachments: small folders, unguessable names.
    return f"canned/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class CannedAttachment(models.Model):
    """A file stored with a canned response; copied onto the reply it is sent with."""

    response = models.ForeignKey(
        CannedResponse, verbose_name=_("canned response"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=canned_file_path, max_length=300)
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=120)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("canned response file")
        verbose_name_plural = _("canned response files")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name
