"""Who may not write to the desk, and who writes too often.

Both checks run before a message touches any ticket; a refused message is still kept (its
InboundMessage row says why), so an operator can always see what was turned away.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from tessera import process_memo

from .models import BannedSender, InboundMessage
from .outbound import own_addresses


@process_memo.memo("mail.BannedSender")
def _bans() -> dict[str, BannedSender]:
    """Every ban by its lower-cased pattern (the oldest when two differ only in case). Asked for
    every message received, so read at most every few seconds per process: a ban added in the
    admin applies within that time (tessera.process_memo)."""
    found: dict[str, BannedSender] = {}
    for ban in BannedSender.objects.order_by("pk"):
        found.setdefault(ban.pattern.strip().lower(), ban)
    return found


def banned(address: str) -> BannedSender | None:
    """The ban that covers this address: the address itself or its whole domain (any case)."""
    address = (address or "").strip().lower()
    if not address:
        return None
    domain = address.rpartition("@")[2]
    bans = _bans()
    patterns = [address, domain, f"@{domain}"] if domain else [address]
    matches = [bans[p] for p in patterns if p in bans]
    return min(matches, key=lambda ban: ban.pk) if matches else None


def over_limit(address: str, *, now: datetime | None = None) -> bool:
    """Has this sender sent more than MAIL_SENDER_LIMIT_PER_HOUR messages in the last hour?

    Every message received counts, posted or not (including the one being processed): a flood
    of refused mail is still a flood. A limit of 0 turns the check off."""
    limit = settings.TESSERA["MAIL_SENDER_LIMIT_PER_HOUR"]
    address = (address or "").strip().lower()
    if not limit or not address:
        return False
    since = (now or timezone.now()) - timedelta(hours=1)
    recent = InboundMessage.objects.filter(sender=address, received_at__gte=since).order_by()
    return recent[limit : limit + 1].exists()  # is there a message past the limit?


def is_ours(address: str) -> bool:
    """Mail from the desk's own addresses is our own mail come back: answering it would loop."""
    return (address or "").strip().lower() in own_addresses()
