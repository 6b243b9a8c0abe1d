"""Help topics, priorities and statuses changed outside the admin (the REST API), by the admin's rules.

`actor` None is a system integration its adapter has already let in by scope. Validation is the
model's (`full_clean`) plus the admin form's own checks (a priority's colour), and every change
is audited; none writes a timeline Event, since no ticket changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tessera.accounts.directory_services import require_setup_rights, save_checked
from tessera.accounts.models import User

from ..colours import is_hex_colour
from ..models import HelpTopic, Priority, Status, Ticket

TOPIC_FIELDS = ("name", "department", "default_priority", "is_public", "is_active", "sla_plan")
PRIORITY_FIELDS = ("name", "urgency", "colour", "is_default")
STATUS_FIELDS = ("name", "state", "order", "is_default")


def save_topic(actor: User | None, topic: HelpTopic | None, values: Mapping[str, Any]) -> HelpTopic:
    """Create (topic None) or change a help topic."""
    require_setup_rights(actor)
    detail = "help topic created" if topic is None else "help topic changed"
    return save_checked(actor, topic or HelpTopic(), values, allowed=TOPIC_FIELDS, detail=detail)


def save_priority(actor: User | None, priority: Priority | None, values: Mapping[str, Any]) -> Priority:
    """Create (priority None) or change a priority; its colour as the admin form takes it."""
    require_setup_rights(actor)
    cleaned = dict(values)
    if "colour" in cleaned:
        colour = str(cleaned["colour"] or "").strip()
        if not is_hex_colour(colour):
            raise ValidationError({"colour": _("Enter a colour as # and six hexadecimal digits, e.g. #b42318.")})
        cleaned["colour"] = colour.lower()
    detail = "priority created" if priority is None else "priority changed"
    return save_checked(actor, priority or Priority(), cleaned, allowed=PRIORITY_FIELDS, detail=detail)


def check_state_change(status: Status, state: str) -> None:
    """A ticket keeps its status's state in its own row (queues filter on it), so a status in use
    may not move to another state: the tickets would say one thing and their status another.
    Make a new status instead and move the tickets to it."""
    if state != Status.objects.filter(pk=status.pk).values_list("state", flat=True).first() and (
        Ticket.objects.filter(status_id=status.pk).exists()
    ):
        raise ValidationError(
            {"state": _("Tickets have this status, so its state cannot change. Make a new status instead.")}
        )


def save_status(actor: User | None, status: Status | None, values: Mapping[str, Any]) -> Status:
    """Create (status None) or change a status."""
    require_setup_rights(actor)
    if status is not None and "state" in values:
        check_state_change(status, str(values["state"]))
    detail = "status created" if status is None else "status changed"
    return save_checked(actor, status or Status(), values, allowed=STATUS_FIELDS, detail=detail)
