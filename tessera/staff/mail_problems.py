"""The ticket page's panel of email notifications about the ticket that did not go out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from tessera.mail.models import Delivery, DeliveryStatus
from tessera.mail.outbound import notice_label
from tessera.tickets.models import Ticket

MAIL_PROBLEMS_SHOWN = 10


@dataclass(frozen=True)
class MailProblem:
    """A notification about this ticket that failed for good, or is waiting to be tried again."""

    recipient: str
    notice: str  # the notice's name for people ("Agent reply")
    failed: bool  # gave up; False: will be tried again at next_attempt_at
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime | None


def mail_problems(ticket: Ticket) -> list[MailProblem]:
    """The newest notifications that did not reach their recipient (one query, capped): an
    agent must know when the customer never got the answer the timeline shows them."""
    rows = (
        Delivery.objects.filter(ticket_id=ticket.pk)
        .filter(Q(status=DeliveryStatus.FAILED) | Q(status=DeliveryStatus.QUEUED, attempts__gt=0))
        .order_by("-created_at", "-pk")
        .only("recipient", "notice", "status", "attempts", "last_error", "created_at", "next_attempt_at")
    )[:MAIL_PROBLEMS_SHOWN]
    return [
        MailProblem(
            recipient=d.recipient,
            notice=notice_label(d.notice),
            failed=d.status == DeliveryStatus.FAILED,
            attempts=d.attempts,
            last_error=d.last_error,
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at,
        )
        for d in rows
    ]
