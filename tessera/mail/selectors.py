"""Reads about mail that other apps' pages show.

The ticket core (tessera.tickets) knows nothing of mail; a page that wants to say which entries
came by email asks here.
"""

from __future__ import annotations

from collections.abc import Iterable

from tessera.tickets.models import Event, Source, ThreadEntry

from .models import InboundMessage


def original_emails(items: Iterable[ThreadEntry | Event]) -> dict[int, int]:
    """Entry id → the received email it came from, for "View original email".
    One query for the whole timeline."""
    ids = [item.pk for item in items if isinstance(item, ThreadEntry) and item.source == Source.EMAIL]
    if not ids:
        return {}
    return dict(InboundMessage.objects.filter(entry_id__in=ids).values_list("entry_id", "pk"))
