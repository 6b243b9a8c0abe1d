"""Plain helpers for the service-layer tests."""

from __future__ import annotations

from contextlib import contextmanager


def fresh(ticket):
    from tessera.tickets.models import Ticket

    return Ticket.objects.get(pk=ticket.pk)


def events(ticket, kind=None):
    from tessera.tickets.models import Event

    qs = Event.objects.filter(ticket_id=ticket.pk).order_by("created_at", "id")
    return list(qs.filter(kind=kind) if kind else qs)


def entries(ticket, kind=None):
    from tessera.tickets.models import ThreadEntry

    qs = ThreadEntry.objects.filter(ticket_id=ticket.pk).order_by("created_at", "id")
    return list(qs.filter(kind=kind) if kind else qs)


def snapshot(ticket) -> dict:
    """Everything a service could change about a ticket, as plain data."""
    from tessera.tickets.models import Attachment, Collaborator, Event, Referral, ThreadEntry, Ticket

    return {
        "row": Ticket.objects.filter(pk=ticket.pk).values().get(),
        "events": list(Event.objects.filter(ticket_id=ticket.pk).values_list("id", flat=True)),
        "entries": list(ThreadEntry.objects.filter(ticket_id=ticket.pk).values_list("id", flat=True)),
        "attachments": Attachment.objects.filter(entry__ticket_id=ticket.pk).count(),
        "collaborators": sorted(Collaborator.objects.filter(ticket_id=ticket.pk).values_list("user_id", flat=True)),
        "referrals": sorted(Referral.objects.filter(ticket_id=ticket.pk).values_list("agent_id", flat=True)),
        "tickets": Ticket.objects.count(),
    }


@contextmanager
def unchanged(ticket):
    """Assert that whatever happens inside (usually a refused service call) leaves the ticket as it was:
    same row (so no version bump), no new event, entry, attachment, collaborator or referral."""
    before = snapshot(ticket)
    try:
        yield
    finally:
        after = snapshot(ticket)
        assert after == before, "the refused call changed the ticket"
