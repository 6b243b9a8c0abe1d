"""For the resolution mail: when the ticket will close by itself."""

from __future__ import annotations

from datetime import datetime

from django import template

from tessera.tickets.models import Ticket

from .. import autoclose

register = template.Library()


@register.filter
def auto_close_time(ticket: Ticket) -> datetime | None:
    return autoclose.closes_at(ticket)
