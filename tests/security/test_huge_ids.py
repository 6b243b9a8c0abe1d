"""An id in a URL that no row can have (beyond a 64-bit key, or zero) is a 404, a refusal or a
redirect, never a server error: SQLite raises OverflowError on an integer it cannot bind, and
PostgreSQL an error on one beyond bigint, unless the view stops it first.

Every named route with an integer argument is asked, by GET and by POST, as an anonymous
visitor, as the requester Ken, as the agent John and as the administrator (who also works
tickets), so the lookup behind each permission check is reached at least once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from tessera.accounts.models import Agent

IMPOSSIBLE_IDS = (2**63, 10**30, 0)
# Values for the arguments that are not integers; a route that takes none of them is skipped.
OTHER_ARGUMENTS = {
    "token": "x" * 20,
    "slug": "printing",
    "kind": "user",
    "uidb64": "MQ",
    "action": "assign",
    "name": "priority",
    "what": "pause",
    "key": "asset",
}


def _int_routes(resolver: URLResolver, namespace: str = "", outer: dict | None = None) -> Iterator[tuple[str, dict]]:
    for entry in resolver.url_patterns:
        converters = {**(outer or {}), **getattr(entry.pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _int_routes(entry, inner, converters)
        elif isinstance(entry, URLPattern) and entry.name and not namespace.startswith("admin:"):
            if any(isinstance(c, IntConverter) for c in converters.values()):
                yield namespace + entry.name, converters


def _urls(huge: int) -> list[str]:
    urls = []
    for name, converters in _int_routes(get_resolver()):
        kwargs = {
            arg: huge if isinstance(conv, IntConverter) else OTHER_ARGUMENTS.get(arg)
            for arg, conv in converters.items()
        }
        if None in kwargs.values():
            continue
        try:
            urls.append(reverse(name, kwargs=kwargs))
        except NoReverseMatch:
            continue
    return urls


def test_the_probe_reaches_the_routes_that_take_an_id(db):
    urls = _urls(2**64)
    assert len(urls) >= 48, urls
    assert f"/staff/tickets/{2**64}/" in urls


@pytest.mark.parametrize("huge", IMPOSSIBLE_IDS)
def test_no_route_answers_an_impossible_id_with_a_server_error(desk, huge):
    Agent.objects.create(user=desk.admin)
    clients = {"anonymous": Client(raise_request_exception=False)}
    for persona, user in (("ken", desk.ken), ("john", desk.john.user), ("admin", desk.admin)):
        clients[persona] = Client(raise_request_exception=False)
        clients[persona].force_login(user)
    failures = []
    for url in _urls(huge):
        for persona, client in clients.items():
            for method in (client.get, client.post):
                answer = method(url)
                if answer.status_code >= 500:
                    failures.append(f"{method.__name__.upper()} {url} as {persona}: {answer.status_code}")
    assert failures == []
