"""Reads about how tickets relate: linked ("related") tickets and tickets merged into another.

Each list is one query, filtered by what the viewing agent may see: a link or a merge never
reveals a ticket the viewer could not open themselves.
"""

from __future__ import annotations

from django.db.models import Q

from tessera.accounts.models import Agent

from . import policy
from .models import Ticket, TicketLink


def related_and_merged(agent: Agent, ticket: Ticket) -> tuple[list[Ticket], list[Ticket]]:
    """The tickets linked to `ticket`, and those merged into it, that `agent` can see: one query
    for both lists (the ticket page asks on every view), lowest number first, with their status."""
    linked = Q(pk__in=TicketLink.objects.filter(ticket=ticket).values("other_id")) | Q(
        pk__in=TicketLink.objects.filter(other=ticket).values("ticket_id")
    )
    rows = list(
        policy.visible_tickets(agent).filter(linked | Q(merged_into=ticket)).select_related("status").order_by("number")
    )
    merged = [t for t in rows if t.merged_into_id == ticket.pk]
    return [t for t in rows if t.merged_into_id != ticket.pk], merged
