"""Helpers for the search tests: tickets opened through the services (which index them)."""

from __future__ import annotations

import pytest


@pytest.fixture
def open_ticket(desk):
    """Open a ticket the way the portal does; Support unless another topic is given."""
    from tessera.tickets import services

    def _open(subject: str, message: str, *, requester=None, topic=None):
        requester = requester or desk.ken
        return services.open_ticket(
            requester, requester=requester, subject=subject, message=message, topic=topic or desk.general
        )

    return _open


def found(agent, text, **kwargs) -> list[int]:
    """The ticket numbers `agent` finds for `text`, best first."""
    from tessera.search.query import search

    return [hit.ticket.number for hit in search(agent, text, **kwargs)]


@pytest.fixture
def as_agent(client):
    """Sign the test client in as an agent (or any user) and return it."""

    def sign_in(who):
        client.force_login(getattr(who, "user", who))
        return client

    return sign_in


@pytest.fixture
def set_state(desk):
    """Put a ticket in a lifecycle state directly (arrangement only)."""
    from tessera.tickets.models import Status, Ticket

    def _set(ticket, state):
        status = Status.objects.filter(state=state).first()
        Ticket.objects.filter(pk=ticket.pk).update(state=state, status=status)
        return Ticket.objects.get(pk=ticket.pk)

    return _set
