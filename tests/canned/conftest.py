"""The desk for canned responses: Mia manages them in Support (the Manager role grants it), Sam
manages them only in Billing (a second membership), John and Bill may only use them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from django.test import Client
from django.urls import reverse


@pytest.fixture
def people(desk):
    from tessera.accounts.models import Agent, Membership, Role, User

    manager = Role.objects.get(name="Manager")
    agent_role = Role.objects.get(name="Agent")

    def agent(email, name, memberships):
        user = User.objects.create_user(email, desk.password, name=name)
        a = Agent.objects.create(user=user)
        for department, role, primary in memberships:
            Membership.objects.create(agent=a, department=department, role=role, is_primary=primary)
        return a

    mia = agent("mia@example.com", "Mia Manager", [(desk.support, manager, True)])
    sam = agent("sam@example.com", "Sam Split", [(desk.support, agent_role, True), (desk.billing, manager, False)])
    return SimpleNamespace(mia=mia, sam=sam)


@pytest.fixture
def make_response(desk):
    """Save a canned response as the administrator (who manages every one)."""
    from tessera.canned import services

    def make(title="Printer tray", body="Hello %{user.first_name}, try the other tray.", departments=(), **kw):
        return services.save_response(desk.admin, None, title=title, body=body, departments=departments, **kw)

    return make


def signed_in(who) -> Client:
    client = Client()
    client.force_login(getattr(who, "user", who))
    return client


def picker_url(ticket, query: str = "") -> str:
    return reverse("canned:picker", args=[ticket.number]) + (f"?q={query}" if query else "")


def render_url(ticket, response) -> str:
    return reverse("canned:render", args=[ticket.number, response.pk])
