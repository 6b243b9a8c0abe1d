"""Helpers for driving the agent workspace through Django's test client."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse


def ticket_url(ticket) -> str:
    return reverse("staff:ticket", args=[ticket.number])


def action_url(ticket, action: str) -> str:
    return reverse("staff:ticket_action", args=[ticket.number, action])


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def page_version(html: str, action: str = "reply") -> int:
    """The version the page put into one of its action forms."""
    match = re.search(rf'name="{action}-version" value="(\d+)"', html)
    assert match, f"no {action} form on the page"
    return int(match.group(1))


@pytest.fixture
def as_agent(client: Client) -> Callable:
    """Sign the test client in as an agent (or any user) and return it."""

    def sign_in(who) -> Client:
        client.force_login(getattr(who, "user", who))
        return client

    return sign_in


@pytest.fixture
def act(client: Client) -> Callable:
    """POST one ticket action the way the page does: prefixed fields plus the current version."""

    def post(ticket, action: str, version: int | None = None, follow: bool = False, **fields):
        ticket.refresh_from_db()
        data = {f"{action}-{name}": value for name, value in fields.items()}
        data[f"{action}-version"] = ticket.version if version is None else version
        return client.post(action_url(ticket, action), data, follow=follow)

    return post


def field_error(html: str, field_id: str) -> str:
    """The error text shown at one field (the element _field.html ties to it by id)."""
    match = re.search(rf'<(\w+) class="error" id="{field_id}_error">(.*?)</\1>', html, re.S)
    assert match, f"no error shown at {field_id}"
    return re.sub(r"<[^>]+>", "", match.group(2)).strip()


def textarea_value(html: str, field_id: str) -> str:
    match = re.search(rf'<textarea[^>]*id="{field_id}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea {field_id}"
    return match.group(1).strip()
