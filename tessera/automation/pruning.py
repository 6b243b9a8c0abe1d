"""The automation app's housekeeping job (registered from AutomationConfig.ready()): forget the
escalation record of breaches long past, so the table stops growing with every breach.

A record is what keeps a rule from acting twice on one breach, so one is kept, however old,
while its ticket is still open: that breach may still stand. A ticket reopened later breaches
afresh (a new due time or response), which a pruned record would not have covered anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from tessera.tickets.models import State

from .models import EscalationRun

KEEP = timedelta(days=90)


def prune_runs(now: datetime | None = None) -> int:
    """Delete the records older than KEEP of tickets no longer open; return how many."""
    cutoff = (now or timezone.now()) - KEEP
    deleted, _by_model = EscalationRun.objects.filter(created_at__lt=cutoff).exclude(ticket__state=State.OPEN).delete()
    return deleted
