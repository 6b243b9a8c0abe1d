"""How a delivery proves where it came from and when: HMAC-SHA256 over "timestamp.body".

Why the timestamp is signed with the body: a receiver that refuses signatures older than a few
minutes cannot be fed a recorded delivery again later, and the delivery id inside the signed
body lets it drop a repeat within that window. docs/api.md ("Webhooks") shows the receiver's side.
"""

from __future__ import annotations

import hashlib
import hmac

ID_HEADER = "Tessera-Webhook-Id"
TIMESTAMP_HEADER = "Tessera-Webhook-Timestamp"
EVENT_HEADER = "Tessera-Webhook-Event"
SIGNATURE_HEADER = "Tessera-Webhook-Signature"
VERSION = "v1"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header value: "v1=" and the hex digest."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{VERSION}={mac.hexdigest()}"


def headers(secret: str, delivery_id: str, event: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        EVENT_HEADER: event,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: str,
    timestamp_header: str,
    signature_header: str,
    body: bytes,
    *,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """The receiver's check, as the docs show it (used by the tests' receiver)."""
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    offered = [part.strip() for part in signature_header.split(",")]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)
