"""The desk for the knowledge base: Mia writes articles (the Manager role grants Perm.KB in
Support), John is an agent who may only read them, Ken is a customer."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from django.test import Client


@pytest.fixture
def writers(desk):
    from tessera.accounts.models import Agent, Membership, Role, User

    manager = Role.objects.get(name="Manager")
    user = User.objects.create_user("mia@example.com", desk.password, name="Mia Manager")
    mia = Agent.objects.create(user=user)
    Membership.objects.create(agent=mia, department=desk.support, role=manager, is_primary=True)
    return SimpleNamespace(mia=mia)


@pytest.fixture
def kb(desk):
    """A public category with a public article, an internal category, and an internal article."""
    from tessera.kb import services

    printing = services.save_category(None, None, name="Printing", description="Printers and paper.")
    internal = services.save_category(None, None, name="Desk procedures", is_public=False)
    jam = services.create_article(
        desk.admin,
        title="The printer jams on every page",
        body="Open the front cover and remove the torn paper, then load **tray 2**.",
        category=printing,
        featured=True,
    )
    vendor = services.create_article(
        desk.admin,
        title="Escalating a printer fault to the vendor",
        body="Internal: call the vendor with the serial number.",
        category=printing,
        is_public=False,
    )
    hidden_place = services.create_article(
        desk.admin,
        title="Toner stock procedure",
        body="A public article filed in an internal category stays internal.",
        category=internal,
    )
    return SimpleNamespace(printing=printing, internal=internal, jam=jam, vendor=vendor, hidden_place=hidden_place)


def signed_in(who) -> Client:
    client = Client()
    client.force_login(getattr(who, "user", who))
    return client
