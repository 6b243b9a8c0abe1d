"""Custom field answers as canned-response variables: %{ticket.field.<key>}.

The answers the requester may read only: an agents-only field never reaches a customer through
a canned response. A key is known when a ticket field has it, retired fields included (their
answers stay on old tickets).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from tessera.customfields import selectors as field_selectors
from tessera.customfields.models import Target
from tessera.tickets.models import Ticket

from . import variables

PREFIX = "ticket.field."


def is_ticket_field(key: str) -> bool:
    field = field_selectors.field_by_key(key)
    return field is not None and field.form.target == Target.TICKET


def answers(ticket: Ticket) -> Mapping[str, str]:
    return field_selectors.values_for(ticket, for_end_user=True)


def register() -> None:
    variables.register_namespace(
        PREFIX, label=_("The ticket's answer to a custom field, by its key"), is_known=is_ticket_field, values=answers
    )
