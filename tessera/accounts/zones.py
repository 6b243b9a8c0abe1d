"""The time zone a person reads times in: their own setting, or the desk's default when they have
none or it names no zone this machine knows (a setting saved before a zone was retired)."""

from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AnonymousUser

from .models import User


def zone_of(user: User | AnonymousUser | None) -> zoneinfo.ZoneInfo | None:
    """The person's own zone, or None for the desk's default (settings.TIME_ZONE)."""
    name = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
