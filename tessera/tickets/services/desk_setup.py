"""Help topics and priorities changed outside the admin (the REST API), by the admin's rules.

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
from ..models import HelpTopic, Priority

TOPIC_FIELDS = ("name", "department", "default_priority", "is_public", "is_active", "sla_plan")
PRIORITY_FIELDS = ("name", "urgency", "colour", "is_default")


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
