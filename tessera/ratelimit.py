"""How often one client may do one thing: a sliding-window counter kept in Django's cache.

Each (scope, key) pair counts hits in fixed windows; the estimate for "the last window" is the
current window's count plus the previous window's count weighted by how much of it still
overlaps. That gives the smoothness of a sliding log (no burst of twice the limit across a window
boundary) for two cache entries per key. Refused hits are not counted, so a client that waits is
let in again however often it tried meanwhile.

The counts are only as shared as the cache: Django's default local-memory cache is private to
one process, so with several worker processes set CACHE_URL to a shared cache (Redis, or the
database cache) as the README explains. Increments are atomic on Redis and local memory; on the
database cache two simultaneous hits may count once, which a limiter can live with.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds until one more hit would be allowed (0 when allowed)


def _key(scope: str, key: str, window_index: int) -> str:
    # Hashed: the key may be an address or any text, and some cache backends restrict key characters.
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{window_index}"


def hit(scope: str, key: str, *, limit: int, window: int, now: float | None = None) -> Decision:
    """Count one hit for `key` in `scope` if fewer than `limit` happened in the last `window`
    seconds; a limit of 0 or less means no limit."""
    if limit <= 0:
        return Decision(True)
    now = time.time() if now is None else now
    index = int(now // window)
    elapsed = (now - index * window) / window
    current_key, previous_key = _key(scope, key, index), _key(scope, key, index - 1)
    counts = cache.get_many([current_key, previous_key])
    current, previous = counts.get(current_key, 0), counts.get(previous_key, 0)
    if previous * (1 - elapsed) + current + 1 > limit:
        return Decision(False, _retry_after(limit, window, index, now, elapsed, current, previous))
    # Kept for two windows: the next window still weighs this one.
    cache.add(current_key, 0, timeout=2 * window)
    try:
        cache.incr(current_key)
    except ValueError:  # evicted between add and incr
        cache.set(current_key, 1, timeout=2 * window)
    return Decision(True)


def _retry_after(limit: int, window: int, index: int, now: float, elapsed: float, current: int, previous: int) -> int:
    """When the estimate next leaves room for one hit, assuming nobody else hits meanwhile."""
    room = limit - 1  # the estimate must fall to this
    if current <= room and previous:
        # Later in this window: previous × (1 − f) + current ≤ room.
        fraction = 1 - (room - current) / previous
        wait = (fraction - elapsed) * window
    else:
        # Next window, where this window's count is the one fading: current × (1 − f) ≤ room.
        fraction = 1 - room / current if current else 0
        wait = (index + 1) * window - now + fraction * window
    return max(1, math.ceil(wait))


def client_ip(request: HttpRequest) -> str:
    """The client's address, the one every limit, lockout and audit entry names. Behind
    TESSERA_TRUSTED_PROXIES reverse proxies, the address the outermost trusted one saw (each
    appends to X-Forwarded-For, or to the header TESSERA_CLIENT_IP_HEADER names); never a value
    the client chose. A header named without a proxy count is trusted for its right-most entry."""
    remote: str = request.META.get("REMOTE_ADDR", "")
    named_header: str = getattr(settings, "CLIENT_IP_HEADER", "")
    header = named_header or "HTTP_X_FORWARDED_FOR"
    proxies: int = settings.TESSERA.get("TRUSTED_PROXIES", 0)
    if proxies <= 0 and named_header:
        proxies = 1
    if proxies <= 0:
        return remote
    forwarded: list[str] = [part.strip() for part in request.META.get(header, "").split(",") if part.strip()]
    if not forwarded:
        return remote
    return forwarded[-min(proxies, len(forwarded))]
