"""The webhook knobs, read from settings.TESSERA with these defaults (README, "Webhooks")."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Let subscriptions reach private, loopback, link-local and reserved addresses (an intranet
    # receiver); or allow only these networks, e.g. ["10.1.2.0/24"] (the tests: 127.0.0.1/32).
    "WEBHOOK_ALLOW_PRIVATE": False,
    "WEBHOOK_ALLOWED_NETWORKS": [],
    # Seconds to connect and to wait for the answer; bytes of the answer read (and then dropped).
    "WEBHOOK_CONNECT_TIMEOUT": 3.0,
    "WEBHOOK_READ_TIMEOUT": 5.0,
    "WEBHOOK_MAX_RESPONSE_BYTES": 64 * 1024,
    # Tries of one delivery before it is given up, and the first wait (doubling, at most the cap).
    "WEBHOOK_ATTEMPTS": 8,
    "WEBHOOK_RETRY_SECONDS": 60,
    "WEBHOOK_RETRY_MAX_SECONDS": 6 * 3600,
    # Seconds a queue's first waiting delivery must have been queued before it is sent: a change
    # committed a moment earlier in another process may still be writing its delivery, which
    # goes first (services, "Order").
    "WEBHOOK_SETTLE_SECONDS": 1.0,
    # Failed attempts in a row, over all of a subscription's deliveries, before it pauses itself.
    "WEBHOOK_PAUSE_AFTER_FAILURES": 20,
}


def get(name: str) -> Any:
    return settings.TESSERA.get(name, DEFAULTS[name])
