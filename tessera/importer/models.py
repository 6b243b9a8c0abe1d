"""What the osTicket importer remembers between runs: which source row became which Tessera
object, and what the row looked like then, so a second run imports only what changed and a run
killed half-way resumes where its last committed batch ended."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdMap(models.Model):
    """One source row (table without prefix, primary key) and the Tessera object made from it.

    Written in the same transaction as the object, so the two never disagree after a crash."""

    source_table = models.CharField(_("source table"), max_length=64)
    source_id = models.BigIntegerField(_("source id"))
    target_id = models.BigIntegerField(_("Tessera id"))
    # A digest of the source row's columns (and the rows folded into it): a different digest on
    # the next run means the row changed there and is brought over again.
    fingerprint = models.CharField(_("fingerprint"), max_length=40)
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)

    class Meta:
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        constraints = [models.UniqueConstraint(fields=["source_table", "source_id"], name="importer_idmap_unique")]

    def __str__(self) -> str:
        return f"{self.source_table}#{self.source_id} → {self.target_id}"
