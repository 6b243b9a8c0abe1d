"""A ticket with open tasks does not close without the agent confirming; confirmed, its open
tasks close with it, provided the agent may close each. Through the service, the properties
panel, bulk and the portal."""

from __future__ import annotations

import pytest

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from tessera.accounts.models import Agent, Membership, Role, User
from tessera.tasks import services as task_services
from tessera.tasks.models import Task, TaskEvent, TaskState
from tessera.tickets import bulk, services
from tessera.tickets.close_guards import CloseRefused
from tessera.tickets.models import Event, EventKind, State, Ticket

HTMX = {"HX-Request": "true"}


@pytest.fixture
def two_tasks(desk, ken_ticket):
    first = task_services.create_task(desk.john.user, ticket=ken_ticket, title="Check the tray")
    second = task_services.create_task(desk.john.user, ticket=ken_ticket, title="Order a roller")
    return first, second


@pytest.fixture
def closer(desk):
    """A Support agent who may close tickets but not tasks."""
    role = Role.objects.create(name="Closer", permissions=["view", "reply", "note", "status", "close"])
    user = User.objects.create_user("cleo@example.com", desk.password, name="Cleo Closer")
    agent = Agent.objects.create(user=user)
    Membership.objects.create(agent=agent, department=desk.support, role=role, is_primary=True)
    return agent


def state(ticket) -> str:
    return Ticket.objects.get(pk=ticket.pk).state


def test_closing_a_ticket_with_open_tasks_is_refused_naming_them(desk, ken_ticket, two_tasks):
    first, second = two_tasks
    with pytest.raises(CloseRefused) as refused:
        services.set_status(desk.john.user, ken_ticket, status=desk.closed)
    assert refused.value.count == 2
    assert f"#{first.number}, #{second.number}" in refused.value.detail
    assert "2 open tasks" in refused.value.detail
    assert refused.value.confirm_label == "Close the ticket and its 2 open tasks"
    assert state(ken_ticket) == State.OPEN
    assert not Event.objects.filter(ticket=ken_ticket, kind=EventKind.STATUS).exists()


def test_confirmed_the_ticket_closes_with_its_open_tasks(desk, ken_ticket, two_tasks):
    services.set_status(desk.john.user, ken_ticket, status=desk.closed, confirm_close=True)
    assert state(ken_ticket) == State.CLOSED
    assert set(Task.objects.values_list("state", flat=True)) == {TaskState.CLOSED}
    closed = TaskEvent.objects.filter(kind="closed")
    assert closed.count() == 2 and all(e.data.get("with_ticket") == "yes" for e in closed)
    kinds = list(Event.objects.filter(ticket=ken_ticket).values_list("kind", flat=True))
    assert kinds.count(EventKind.TASK_CLOSED) == 2 and EventKind.STATUS in kinds


def test_closed_tasks_do_not_hold_the_ticket(desk, ken_ticket, two_tasks):
    for task in two_tasks:
        task_services.close_task(desk.john.user, task)
    services.set_status(desk.john.user, ken_ticket, status=desk.closed)
    assert state(ken_ticket) == State.CLOSED


def test_resolving_is_not_closing(desk, ken_ticket, two_tasks):
    services.set_status(desk.john.user, ken_ticket, status=desk.resolved)
    assert state(ken_ticket) == State.RESOLVED


def test_an_agent_without_task_close_rights_is_told_which_task_and_nothing_changes(desk, ken_ticket, two_tasks, closer):
    first, second = two_tasks
    with pytest.raises(PermissionDenied) as refused:
        services.set_status(closer.user, ken_ticket, status=desk.closed, confirm_close=True)
    assert f"You cannot close tasks #{first.number}, #{second.number}" in str(refused.value)
    assert state(ken_ticket) == State.OPEN
    assert set(Task.objects.values_list("state", flat=True)) == {TaskState.OPEN}


def test_the_requester_closing_on_the_portal_leaves_the_desk_tasks_alone(desk, ken_ticket, two_tasks):
    services.close_by_user(desk.ken, ken_ticket)
    assert state(ken_ticket) == State.CLOSED
    assert set(Task.objects.values_list("state", flat=True)) == {TaskState.OPEN}


def test_the_panel_refuses_with_the_reason_and_a_confirm_button_that_closes_them(client, desk, ken_ticket, two_tasks):
    client.force_login(desk.john.user)
    url = reverse("staff:ticket_property", args=[ken_ticket.number, "status"])
    version = Ticket.objects.get(pk=ken_ticket.pk).version
    response = client.post(url, {"props-status": desk.closed.pk, "props-version": version}, headers=HTMX)
    assert response.status_code == 409
    page = response.content.decode()
    assert "has 2 open tasks" in page and "Close the ticket and its 2 open tasks" in page
    assert 'name="props-close_tasks" value="1"' in page
    assert state(ken_ticket) == State.OPEN
    confirmed = client.post(
        url, {"props-status": desk.closed.pk, "props-version": version, "props-close_tasks": "1"}, headers=HTMX
    )
    assert confirmed.status_code == 200
    assert state(ken_ticket) == State.CLOSED
    assert set(Task.objects.values_list("state", flat=True)) == {TaskState.CLOSED}


def test_the_panel_without_task_close_rights_says_so(client, desk, ken_ticket, two_tasks, closer):
    client.force_login(closer.user)
    url = reverse("staff:ticket_property", args=[ken_ticket.number, "status"])
    version = Ticket.objects.get(pk=ken_ticket.pk).version
    response = client.post(
        url, {"props-status": desk.closed.pk, "props-version": version, "props-close_tasks": "1"}, headers=HTMX
    )
    assert response.status_code == 403
    assert "You cannot close tasks #" in response.content.decode()
    assert state(ken_ticket) == State.OPEN


def test_bulk_close_refuses_a_ticket_with_open_tasks_unless_asked_to_close_them(
    desk, ken_ticket, two_tasks, no_intake_limit
):
    other = services.open_ticket(desk.ken, requester=desk.ken, subject="Scanner", message="Hm.", topic=desk.general)
    result = bulk.bulk_apply(desk.john.user, [ken_ticket.number, other.number], "status", status=desk.closed)
    assert result.done == [other.number]
    (refusal,) = result.refused
    assert refusal.number == ken_ticket.number and "2 open tasks" in refusal.reason
    again = bulk.bulk_apply(desk.john.user, [ken_ticket.number], "status", status=desk.closed, close_tasks=True)
    assert again.done == [ken_ticket.number] and state(ken_ticket) == State.CLOSED


def test_the_bulk_bar_offers_to_close_the_tasks_too(client, desk, ken_ticket, two_tasks):
    client.force_login(desk.john.user)
    response = client.post(
        reverse("staff:bulk"),
        {
            "tickets": [ken_ticket.number],
            "bulk-action": "status",
            "bulk-status": desk.closed.pk,
            "bulk-close_tasks": "on",
            "bulk-next": "/staff/queues/open/",
        },
    )
    assert response.status_code == 302
    assert state(ken_ticket) == State.CLOSED


def test_a_reply_that_would_close_the_ticket_comes_back_with_the_reason_and_the_text(
    client, desk, ken_ticket, two_tasks
):
    client.force_login(desk.john.user)
    version = Ticket.objects.get(pk=ken_ticket.pk).version
    response = client.post(
        reverse("staff:ticket_action", args=[ken_ticket.number, "reply"]),
        {"reply-message": "All fixed, closing.", "reply-status": desk.closed.pk, "reply-version": version},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "has 2 open tasks" in page and "All fixed, closing." in page
    assert state(ken_ticket) == State.OPEN
