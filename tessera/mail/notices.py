"""Mail's side of ticket notifications: the carrier that takes each notice to a person by email.

tessera.tickets.notifications decides who hears about what, and cannot import the mail app (the
core never imports an adapter), so the mail app registers this carrier with it in
MailConfig.ready(). How each message is built, sent, retried and recorded is outbound's job.
"""

from __future__ import annotations

import logging
from typing import Any

from tessera.accounts.models import User
from tessera.tickets.models import ThreadEntry, Ticket

from . import outbound

log = logging.getLogger(__name__)


class MailCarrier:
    """tessera.tickets.notifications.Carrier, by email: one Delivery per notice and person."""

    def declines(self, notice: str, ticket: Ticket, entry: ThreadEntry | None) -> bool:
        # Never auto-respond to an auto-responder (see outbound.opened_by_machine).
        if notice == "new_ticket" and outbound.opened_by_machine(ticket, entry):
            log.info("Ticket %s was opened by an automatic message: no acknowledgement sent", ticket.number)
            return True
        return False

    def send(self, notice: str, ticket: Ticket, user: User, entry: ThreadEntry | None, extra: dict[str, Any]) -> bool:
        delivery = outbound.queue(notice, ticket, user, entry)
        if delivery is None:  # one of the desk's own addresses
            return False
        outbound.schedule(delivery, extra)
        return True
