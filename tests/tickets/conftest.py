"""Fixtures for the service-layer tests: more people, a superuser who is an agent, and set-up shortcuts."""

from __future__ import annotations

import pytest


@pytest.fixture
def kim(desk):
    """Ken's colleague, an end user who is not on Ken's ticket unless a test copies her."""
    from tessera.accounts.models import User

    return User.objects.create_user("kim@example.com", desk.password, name="Kim Lee")


@pytest.fixture
def superagent(desk):
    """The superuser with an agent profile but no department: may do everything the state allows."""
    from tessera.accounts.models import Agent

    Agent.objects.create(user=desk.admin)
    return desk.admin


@pytest.fixture
def set_state(desk):
    """Put a ticket in a lifecycle state directly (arrangement only; the services are tested elsewhere)."""
    from tessera.tickets.models import Ticket

    statuses = {"open": desk.open, "pending": desk.pending, "resolved": desk.resolved, "closed": desk.closed}

    def _set(ticket, state):
        from tessera.tickets.models import Status

        status = statuses.get(state) or Status.objects.get(state=state)
        Ticket.objects.filter(pk=ticket.pk).update(state=state, status=status)
        return Ticket.objects.get(pk=ticket.pk)

    return _set


@pytest.fixture
def fail_midway(monkeypatch):
    """Make the service blow up after it has written its rows but before it saves the ticket,
    to prove that the rows and the change share one transaction. Each feature module of the
    services package looks `_touch` up in its own namespace, so it is replaced in each of them."""
    from tessera.tickets.services import collaborators, conversation, routing, status

    class Boom(Exception):
        pass

    def explode(*args, **kwargs):
        raise Boom("database went away")

    for module in (collaborators, conversation, routing, status):
        monkeypatch.setattr(module, "_touch", explode)
    return Boom
