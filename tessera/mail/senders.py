"""Who may not write to the desk, and who writes too often.

Both checks run before a message touches any ticket; a refused message is still kept (its
InboundMessage row says why), so an operator can always see what was turned away.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import BannedSender, InboundMessage
from .outbound import own_addresses


def banned(address: str) -> BannedSender | None:
    """The ban that covers this address: the address itself or its whole domain (any case)."""
    address = (address or "").strip().lower()
    if not address:
        return None
    domain = address.rpartition("@")[2]
    query = Q(pattern__iexact=address)
    if domain:
        query |= Q(pattern__iexact=domain) | Q(pattern__iexact=f"@{domain}")
    return BannedSender.objects.filter(query).order_by("pk").first()


def over_limit(address: str, *, now: datetime | None = None) -> bool:
    """Has this sender sent more than MAIL_SENDER_LIMIT_PER_HOUR messages in the last hour?

    Every message received counts, posted or not (including the one being processed): a flood
    of refused mail is still a flood. A limit of 0 turns the check off."""
    limit = settings.TESSERA["MAIL_SENDER_LIMIT_PER_HOUR"]
    address = (address or "").strip().lower()
    if not limit or not address:
        return False
    since = (now or timezone.now()) - timedelta(hours=1)
    recent = InboundMessage.objects.filter(sender=address, received_at__gte=since)
    return recent[: limit + 1].count() > limit


def is_ours(address: str) -> bool:
    """Mail from the desk's own addresses is our own mail come back: answering it would loop."""
    return (address or "").strip().lower() in own_addresses()
