"""When the requester is asked: once per ticket, a while after it is first resolved or closed.

Two steps:

1. **The survey is planned** when a change that resolves or closes a ticket commits: a receiver of
   Ticket's post_save (connected in SatisfactionConfig.ready(), so the core never imports this
   app) sees the row saved with its new `state`, and after the commit creates the ticket's one
   Survey, crediting the agent assigned at that moment. The portal shows the prompt from then on.
2. **The mail goes out** from the periodic job `satisfaction.ask` (`run`), once the survey is due
   (`SATISFACTION_DELAY_MINUTES` after the resolution, 60 by default) and only while the ticket is
   still resolved or closed and unrated. The delay keeps the survey from landing on top of the
   resolution mail and gives a "still broken" reply time to reopen the ticket first: a reopened
   ticket's survey waits until it is resolved again. The mail goes through the notification
   carrier (tessera.mail registers it): one Delivery, retried like every notice, threaded with
   the ticket's other mail.

Why not the core's listener registry (tickets/listeners.py), which webhooks use: a listener
cannot say which changes it wants before they are written, so one that always wants (surveys are
on by default) would make every change on the desk collect its batch and read the ticket's
version, which the registry promises a quiet desk never pays. The save signal fires only on the
saves that change a state, and costs nothing elsewhere.

"Once" is per ticket, ever: a ticket resolved, reopened and resolved again is not asked twice (its
requester may still rate from the first mail or the portal). Desks that ask per resolution end up
asking the same person about the same problem twice, which is what people call survey spam.
Tickets merged into another are never asked: they are closed because their conversation moved on,
not because anything was solved.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tessera.tickets import notifications
from tessera.tickets.models import State, Ticket

from .models import Survey

log = logging.getLogger(__name__)

NOTICE = "satisfaction_request"
ASKED_STATES = (State.RESOLVED, State.CLOSED)
ASK_DAYS = 30  # a survey not mailed by then (its ticket stayed reopened) is never mailed
BATCH = 500  # mails per run; the next run takes the rest


def enabled() -> bool:
    """On unless the operator turned surveys off (TESSERA["SATISFACTION_SURVEYS"] = False)."""
    return bool(settings.TESSERA.get("SATISFACTION_SURVEYS", True))


def delay() -> timedelta:
    return timedelta(minutes=int(settings.TESSERA.get("SATISFACTION_DELAY_MINUTES", 60)))


def on_ticket_saved(sender: type[Ticket], instance: Ticket, created: bool, update_fields: Any, **kwargs: Any) -> None:
    """post_save receiver: a ticket whose state was just saved as resolved or closed gets its
    survey planned once the change commits (nothing at all for a change that rolls back)."""
    if created or not update_fields or "state" not in update_fields or not enabled():
        return
    if instance.state not in ASKED_STATES or instance.merged_into_id is not None:
        return
    ticket_id, requester_id = instance.pk, instance.user_id
    agent_id, department_id = instance.assignee_id, instance.department_id
    transaction.on_commit(lambda: plan(ticket_id, requester_id, agent_id, department_id), robust=True)


def plan(ticket_id: int, requester_id: int, agent_id: int | None, department_id: int) -> bool:
    """Create the ticket's survey unless it has one; True when this call created it."""
    now = timezone.now()
    try:
        with transaction.atomic():
            _survey, created = Survey.objects.get_or_create(
                ticket_id=ticket_id,
                defaults={
                    "requester_id": requester_id,
                    "agent_id": agent_id,
                    "department_id": department_id,
                    "created_at": now,
                    "due_at": now + delay(),
                },
            )
    except IntegrityError:  # planned at the same moment by another process
        return False
    return created


def run(now: datetime | None = None) -> int:
    """Periodic job: mail every survey that is due; return how many were sent."""
    if not enabled():
        return 0
    now = now or timezone.now()
    due = list(
        Survey.objects.filter(mailed_at__isnull=True, due_at__lte=now, due_at__gte=now - timedelta(days=ASK_DAYS))
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    sent = 0
    for survey_id in due:
        try:
            if mail(survey_id, now=now):
                sent += 1
        except Exception:
            log.exception("Could not mail satisfaction survey %s", survey_id)
    return sent


def mail(survey_id: int, *, now: datetime | None = None) -> bool:
    """Mail one survey to its requester, unless it was mailed or answered already, or its ticket
    is open again (it stays due). Under the survey's row lock, so two runners mail it once."""
    now = now or timezone.now()
    with transaction.atomic():
        survey = (
            Survey.objects.select_for_update()
            .select_related("ticket", "requester")
            .filter(pk=survey_id, mailed_at__isnull=True)
            .first()
        )
        if survey is None:
            return False
        ticket, requester = survey.ticket, survey.requester
        if ticket.state not in ASKED_STATES or ticket.merged_into_id is not None:
            return False
        answered = hasattr(survey, "rating")
        if answered or not requester.is_active or not requester.email:
            survey.mailed_at = now  # nothing to ask: settled, so the job stops looking at it
            survey.save(update_fields=["mailed_at"])
            return False
        sent = notifications.carrier().send(NOTICE, ticket, requester, None, {})
        survey.mailed_at = now
        survey.save(update_fields=["mailed_at"])
    return bool(sent)
