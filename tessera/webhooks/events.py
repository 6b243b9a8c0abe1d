"""The webhook event names a subscription chooses from, and which timeline rows raise them.

Why a fixed map: receivers key their code on these names, so they are a public contract
(docs/api.md ("Webhooks")) that must not follow every new EventKind the core adds. A kind missing
from the map (mail bounces, referrals, links, the routing rules' own record) raises nothing.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.tickets.models import EntryKind, EventKind


class WebhookEvent(models.TextChoices):
    TICKET_CREATED = "ticket.created", _("ticket created")
    TICKET_UPDATED = "ticket.updated", _("ticket updated (priority, department, topic, SLA, collaborators, merge)")
    TICKET_ASSIGNED = "ticket.assigned", _("ticket assigned, claimed or released")
    TICKET_STATUS_CHANGED = "ticket.status_changed", _("ticket status changed")
    MESSAGE_CREATED = "message.created", _("message or reply posted")
    NOTE_CREATED = "note.created", _("internal note added")
    SLA_WARNING = "sla.warning", _("SLA target nearly due")
    SLA_BREACHED = "sla.breached", _("SLA target missed")


# A reopening is always written with its status change, and a note's Event with its entry: each
# reaches receivers once, through the status change and the entry.
BY_EVENT_KIND: dict[str, WebhookEvent] = {
    EventKind.CREATED: WebhookEvent.TICKET_CREATED,
    EventKind.ASSIGNED: WebhookEvent.TICKET_ASSIGNED,
    EventKind.CLAIMED: WebhookEvent.TICKET_ASSIGNED,
    EventKind.RELEASED: WebhookEvent.TICKET_ASSIGNED,
    EventKind.STATUS: WebhookEvent.TICKET_STATUS_CHANGED,
    EventKind.TRANSFERRED: WebhookEvent.TICKET_UPDATED,
    EventKind.PRIORITY: WebhookEvent.TICKET_UPDATED,
    EventKind.TOPIC: WebhookEvent.TICKET_UPDATED,
    EventKind.SLA_PLAN: WebhookEvent.TICKET_UPDATED,
    EventKind.DUE_DATE: WebhookEvent.TICKET_UPDATED,
    EventKind.COLLABORATOR_ADDED: WebhookEvent.TICKET_UPDATED,
    EventKind.COLLABORATOR_REMOVED: WebhookEvent.TICKET_UPDATED,
    EventKind.MERGED: WebhookEvent.TICKET_UPDATED,
    EventKind.SLA_WARNING: WebhookEvent.SLA_WARNING,
    EventKind.SLA_BREACHED: WebhookEvent.SLA_BREACHED,
}

BY_ENTRY_KIND: dict[str, WebhookEvent] = {
    EntryKind.MESSAGE: WebhookEvent.MESSAGE_CREATED,
    EntryKind.RESPONSE: WebhookEvent.MESSAGE_CREATED,
    EntryKind.NOTE: WebhookEvent.NOTE_CREATED,
}
