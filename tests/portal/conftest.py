"""Portal fixtures: customers outside the desk, and a colleague copied on Ken's ticket."""

from __future__ import annotations

import pytest


@pytest.fixture
def mary(desk):
    """A customer with nothing to do with Ken or his tickets."""
    from tessera.accounts.models import User

    return User.objects.create_user("mary@example.net", desk.password, name="Mary Major")


@pytest.fixture
def mary_ticket(desk, mary):
    from tessera.tickets import services

    return services.open_ticket(
        mary, requester=mary, subject="Invoice missing", message="Where is it?", topic=desk.general
    )


@pytest.fixture
def carol(desk, ken_ticket):
    """Ken's colleague, copied on his printer ticket by John."""
    from tessera.accounts.models import User
    from tessera.tickets import services

    carol = User.objects.create_user("carol@example.com", name="Carol Copied")
    services.add_collaborator(desk.john.user, ken_ticket, user=carol)
    return carol
