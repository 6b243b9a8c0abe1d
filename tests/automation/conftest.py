"""Automation fixtures: Support with three more agents who can answer its tickets, a way to open
tickets there quickly, and a frozen clock (as tests/sla does)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest


@pytest.fixture
def crew(desk):
    """Amy, Ben and Cat join Support with the Agent role (John is there already, Olga only observes)."""
    from tessera.accounts.models import Agent, Membership, Role, User

    role = Role.objects.get(name="Agent")

    def join(email, name):
        user = User.objects.create_user(email, desk.password, name=name)
        agent = Agent.objects.create(user=user)
        Membership.objects.create(agent=agent, department=desk.support, role=role, is_primary=True)
        return agent

    return SimpleNamespace(
        amy=join("amy@example.com", "Amy Ames"),
        ben=join("ben@example.com", "Ben Bell"),
        cat=join("cat@example.com", "Cat Cole"),
    )


@pytest.fixture
def open_in(desk, no_intake_limit):
    """open_in(department) opens a ticket from Ken there (through the portal's service)."""
    from tessera.tickets import services

    def _open(department=None, subject="Printer jams"):
        return services.open_ticket(
            desk.john.user,
            requester=desk.ken,
            subject=subject,
            message="It jams on page two.",
            department=department or desk.support,
        )

    return _open


@pytest.fixture
def at(monkeypatch):
    """Freeze the services' clock: at("2026-03-02 10:00") (UTC) makes timezone.now() return it."""
    from django.utils import timezone

    def _at(text: str) -> datetime:
        moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return _at


@pytest.fixture(autouse=True)
def _alert_settings(db):
    """The alert rows migration 0007 writes, put back after a transactional test truncated them."""
    from tessera.tickets.models import ALERT_DEFAULTS, AlertSetting

    for event, groups in ALERT_DEFAULTS.items():
        AlertSetting.objects.get_or_create(event=event, defaults=groups)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a call as if its transaction had committed, so its notifications go out."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run
