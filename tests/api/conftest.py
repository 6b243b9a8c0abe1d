"""API fixtures: keys made through the same service administrators use."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tessera.api import keys
from tessera.api.models import ApiKey, Scope


@pytest.fixture
def make_key(desk) -> Callable[..., tuple[ApiKey, str]]:
    def make(name: str = "Monitoring", **kwargs) -> tuple[ApiKey, str]:
        kwargs.setdefault("scopes", [Scope.TICKETS_READ, Scope.TICKETS_WRITE])
        return keys.issue_key(name=name, created_by=desk.admin, **kwargs)

    return make


@pytest.fixture
def john_key(desk, make_key) -> str:
    """A key that acts as John (Support, tier 1), reading and writing tickets."""
    return make_key("John's script", agent=desk.john)[1]


@pytest.fixture
def api(client, john_key):
    """The test client, calling as John's key."""

    class Api:
        key = john_key

        def __getattr__(self, method: str):
            call = getattr(client, method)

            def send(path: str, *args, key: str | None = None, **kwargs):
                headers = kwargs.pop("headers", {})
                headers.setdefault("Authorization", f"Bearer {key or self.key}")
                kwargs.setdefault("content_type", "application/json") if method in {"post", "put", "patch"} else None
                return call(path, *args, headers=headers, **kwargs)

            return send

    return Api()


# ---------------------------------------------------------------------------- ticket endpoint keys


@pytest.fixture
def system_key(make_key) -> str:
    """A system integration (no agent) that reads and writes tickets."""
    return make_key("Monitoring system")[1]


@pytest.fixture
def bill_key(desk, make_key) -> str:
    """Bill (Billing) reading and writing tickets: Support's tickets are not his."""
    return make_key("Bill's script", agent=desk.bill)[1]


@pytest.fixture
def read_only_key(desk, make_key) -> str:
    return make_key("John's dashboard", agent=desk.john, scopes=[Scope.TICKETS_READ])[1]
