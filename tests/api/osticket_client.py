"""Shared by tests/api/test_osticket_*.py: a key with the `osticket` scope and a client that
posts raw bodies the way osTicket's integrations do (the Content-Type is not what counts)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tessera.api.models import Scope

FULL = {
    "alert": True,
    "autorespond": True,
    "source": "API",
    "name": "Angry User",
    "email": "api@example.net",
    "phone": "3185558634X123",
    "subject": "Testing API",
    "ip": "123.211.233.122",
    "message": "data:text/html,MESSAGE <b>HERE</b>",
    "attachments": [
        {"file.txt": "data:text/plain;charset=utf-8,content of file"},
        {
            "image.png": "data:image/png;base64,"
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
        },
    ],
}
MINIMAL = {"name": "Mini User", "email": "mini@example.net", "subject": "Minimal", "message": "Just text."}


# Named apart from the functions, so test files import the functions without shadowing.
@pytest.fixture(name="ost_key")
def ost_key_fixture(make_key) -> str:
    return make_key("osTicket bridge", scopes=[Scope.OSTICKET])[1]


@pytest.fixture(name="ost")
def ost_fixture(client, ost_key):
    class Osticket:
        key = ost_key

        def post(
            self, path: str, body: Any = b"", *, key: str | None = "", content_type: str = "application/json", **extra
        ):
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode("utf-8")
            headers = dict(extra.pop("headers", {}))
            if key is not None:
                headers["X-API-Key"] = key or self.key
            return client.generic("POST", path, body, content_type=content_type, headers=headers, **extra)

        def json(self, body: Any, **kwargs):
            return self.post("/api/tickets.json", body, **kwargs)

    return Osticket()


def number(response) -> int:
    assert response.status_code == 201, (response.status_code, response.content)
    assert response.content.isdigit(), response.content
    return int(response.content)
