"""Closing a ticket that has open tasks through the API: 409 with a clear problem, then
`close_tasks: true` closes them with it."""

from __future__ import annotations

from tessera.tasks import services as task_services
from tessera.tasks.models import Task, TaskState
from tessera.tickets.models import State, Ticket

URL = "/api/v1/tickets"


def test_closing_with_open_tasks_is_a_409_until_close_tasks_is_sent(api, desk, ken_ticket):
    task = task_services.create_task(desk.john.user, ticket=ken_ticket, title="Check the tray")
    refused = api.post(f"{URL}/{ken_ticket.number}/status", {"status_id": desk.closed.pk})
    assert refused.status_code == 409, refused.content
    assert refused["Content-Type"] == "application/problem+json"
    body = refused.json()
    assert body["type"].endswith("/conflict")
    assert f"#{task.number}" in body["detail"] and "close_tasks" in body["detail"]
    assert body["errors"][0]["field"] == "close_tasks"
    assert Ticket.objects.get(pk=ken_ticket.pk).state == State.OPEN

    done = api.post(f"{URL}/{ken_ticket.number}/status", {"status_id": desk.closed.pk, "close_tasks": True})
    assert done.status_code == 200, done.content
    assert Ticket.objects.get(pk=ken_ticket.pk).state == State.CLOSED
    assert Task.objects.get(pk=task.pk).state == TaskState.CLOSED
