"""When the requester is asked: once per ticket, after the change that resolved or closed it.

The ticket core announces every committed change to its listeners (tickets/listeners.py); this
one picks the status changes into resolved or closed and queues `ask` for each ticket. The task
then decides from the committed data, so a late or repeated task changes nothing:

- once per ticket, ever: the survey row is unique per ticket. A ticket resolved, reopened and
  resolved again is not asked a second time (its requester may still rate, or change a fresh
  rating, from the first mail or the portal). Desks that ask per resolution end up asking the
  same person about the same problem twice, which is what people call survey spam.
- not a ticket merged into another (it is closed because its conversation moved on, not because
  anything was solved), nor one reopened before the task ran, nor a requester who cannot sign in.
- the mail goes through the notification carrier (tessera.mail registers it): one Delivery,
  retried like every notice, threaded with the ticket's other mail.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.tasks import task

from tessera.tickets import notifications
from tessera.tickets.listeners import Batch
from tessera.tickets.models import EventKind, State, Ticket

from .models import Survey

log = logging.getLogger(__name__)

NOTICE = "satisfaction_request"
ASKED_STATES = (State.RESOLVED, State.CLOSED)


def enabled() -> bool:
    """On unless the operator turned surveys off (TESSERA["SATISFACTION_SURVEYS"] = False)."""
    return bool(settings.TESSERA.get("SATISFACTION_SURVEYS", True))


def on_change(batch: Batch) -> None:
    """Listener: queue an ask for each ticket this change resolved or closed."""
    merged = {e.ticket_id for e in batch.events if e.kind == EventKind.MERGED and (e.data or {}).get("into")}
    done: list[int] = []
    for event in batch.events:
        if event.kind != EventKind.STATUS or (event.data or {}).get("state") not in ASKED_STATES:
            continue
        if event.ticket_id in merged or event.ticket_id in done:
            continue
        done.append(event.ticket_id)
    for ticket_id in done:
        try:
            ask.enqueue(ticket_id)
        except Exception:
            log.exception("Could not queue the satisfaction survey of ticket %s", ticket_id)


@task()
def ask(ticket_id: int) -> str:
    """Ask the ticket's requester to rate the help, unless they were asked already. Returns what
    happened, for the task's record and the tests."""
    if not enabled():
        return "disabled"
    ticket = Ticket.objects.select_related("user", "assignee", "department").filter(pk=ticket_id).first()
    if ticket is None:
        return "gone"
    if ticket.state not in ASKED_STATES:
        return "reopened"
    requester = ticket.user
    if not requester.is_active or not requester.email:
        return "no requester"
    try:
        with transaction.atomic():
            _survey, created = Survey.objects.get_or_create(
                ticket=ticket,
                defaults={"requester": requester, "agent": ticket.assignee, "department": ticket.department},
            )
            if not created:
                return "asked already"
            sent = notifications.carrier().send(NOTICE, ticket, requester, None, {})
    except IntegrityError:  # another worker asked at the same moment
        return "asked already"
    return "asked" if sent else "not sent"
