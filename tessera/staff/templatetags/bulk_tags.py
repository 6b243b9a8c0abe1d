"""Template helpers for the bulk bar (queue pages) and the merge and link panel (ticket page).

They live in tags so the shared queue and ticket views need no changes to carry them: each
include loads what it shows, with one query per list, whatever the queue or ticket holds.
"""

from __future__ import annotations

from typing import Any

from django import template

from tessera.tickets import policy, relations
from tessera.tickets.models import Ticket
from tessera.tickets.policy import Action

from ..forms import BulkChoices, BulkForm

register = template.Library()


@register.simple_tag(takes_context=True)
def bulk_form(context: template.Context) -> BulkForm:
    """The bulk bar's form, told which page to come back to after the POST. Its lists are the
    queue filter form's (`choices` in the page context) when the page has them: no extra query."""
    request = context.get("request")
    back = request.get_full_path() if request is not None else ""
    choices = BulkChoices.borrow(context.get("choices")) or BulkChoices.load()
    return BulkForm(choices=choices, initial={"next": back})


@register.simple_tag(takes_context=True)
def ticket_relations(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    """What the merge and link panel shows the signed-in agent about `ticket`."""
    user = context["request"].user
    related, merged_from = relations.related_and_merged(user.agent, ticket)
    return {
        "related": related,
        "merged_from": merged_from,
        "can_link": policy.can(user, Action.MANAGE, ticket),
        "can_merge": policy.can(user, Action.MERGE, ticket),
    }
