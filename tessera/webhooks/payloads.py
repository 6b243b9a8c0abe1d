"""What a receiver is told: the ticket as it stands after the change, and what changed.

Built once when the delivery is queued (right after the commit), so a retry an hour later
sends the same body, and a receiver that reads deliveries in order sees the ticket's history
as it happened. Names and values only: no internal ids the receiver could not look up through
the API besides the ticket's own id and number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from tessera.tickets.models import Event, ThreadEntry, Ticket


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket(t: Ticket) -> dict[str, Any]:
    base = str(settings.TESSERA["BASE_URL"]).rstrip("/")
    assignee = t.assignee
    return {
        "id": t.pk,
        "number": t.number,
        "reference": t.reference,
        "subject": t.subject,
        "state": t.state,
        "status": t.status.name,
        "priority": t.priority.name,
        "department": t.department.name,
        "team": t.team.name if t.team_id and t.team else None,
        "assignee": {"name": assignee.name, "email": assignee.user.email} if assignee is not None else None,
        "requester": {"name": t.user.display_name, "email": t.user.email},
        "topic": t.topic.name if t.topic_id and t.topic else None,
        "source": t.source,
        "created_at": _when(t.created_at),
        "updated_at": _when(t.updated_at),
        "due_at": _when(t.due_at),
        "url": base + reverse("staff:ticket", args=[t.number]),
    }


def change(event: Event) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "before": event.before,
        "after": event.after,
        "actor": event.actor_name,
        "at": _when(event.created_at),
        "data": event.data,
    }


def entry(e: ThreadEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "kind": e.kind,
        "public": e.is_public,
        "author": e.author_name,
        "source": e.source,
        "body_text": e.body_text,
        "body_html": e.body_html,
        "created_at": _when(e.created_at),
        "attachments": [{"name": a.name, "size": a.size, "content_type": a.content_type} for a in e.attachments.all()],
    }
