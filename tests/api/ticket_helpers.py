"""Keys and helpers shared by the ticket endpoint tests (imported by each test_tickets_* module)."""

from __future__ import annotations

import base64

from django.test.client import MULTIPART_CONTENT

__all__ = ["MULTIPART_CONTENT", "b64", "etag", "problem"]


def problem(response, status: int, kind: str) -> dict:
    """Assert the answer is a problem document of this kind, and return its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/" + kind), body
    assert body["status"] == status
    return body


def etag(ticket) -> str:
    ticket.refresh_from_db()
    return f'"{ticket.number}-{ticket.version}"'


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
