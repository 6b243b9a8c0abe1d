"""Reads about how tickets relate: linked ("related") tickets and tickets merged into another.

Each list is one query, filtered by what the viewing agent may see: a link or a merge never
reveals a ticket the viewer could not open themselves.
"""

from __future__ import annotations

from tessera.accounts.models import Agent

from . import policy
from .models import Ticket, TicketLink


def related_and_merged(agent: Agent, ticket: Ticket) -> tuple[list[Ticket], list[Ticket]]:
    """The tickets linked to `ticket`, and those merged into it, that `agent` can see, lowest
    number first, with their status: one query for both lists when there are none (most
    tickets; the ticket page asks on every view), two when there are."""
    # Ids first, each branch from its own index, then the visible tickets among them: OR-ing the
    # three conditions into the visibility filter made PostgreSQL scan tickets (273 → 0.2 ms at 1M).
    ids = (
        TicketLink.objects.filter(ticket=ticket)
        .values_list("other_id", flat=True)
        .union(
            TicketLink.objects.filter(other=ticket).values_list("ticket_id", flat=True),
            Ticket.objects.filter(merged_into=ticket).values_list("id", flat=True),
            all=True,
        )
    )
    found = list(ids)
    if not found:  # most tickets: no second query, and no visibility filter to compile
        return [], []
    rows = list(policy.visible_tickets(agent).filter(pk__in=found).select_related("status").order_by("number"))
    merged = [t for t in rows if t.merged_into_id == ticket.pk]
    return [t for t in rows if t.merged_into_id != ticket.pk], merged
