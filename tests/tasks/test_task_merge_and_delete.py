"""A merged ticket's tasks go on with the ticket it was merged into; a manager may delete a task,
and its ticket's timeline says so."""

from __future__ import annotations

import pytest

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from tessera.accounts.models import Role
from tessera.audit.models import AuditEntry
from tessera.tasks import services as task_services
from tessera.tasks.models import Task, TaskEntry, TaskEvent, TaskState
from tessera.tasks.sentences import task_event_sentence
from tessera.tickets import services
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import Event, EventKind, State, Ticket


@pytest.fixture
def manager_john(desk):
    membership = desk.john.memberships.get()
    membership.role = Role.objects.get(name="Manager")
    membership.save()
    return desk.john


def open_ticket(desk, subject):
    return services.open_ticket(
        desk.ken, requester=desk.ken, subject=subject, message="The printer jams.", department=desk.support
    )


def test_merging_moves_the_duplicates_tasks_to_the_surviving_ticket(desk, manager_john):
    keep = open_ticket(desk, "Printer jams")
    duplicate = open_ticket(desk, "Printer jams again")
    task = task_services.create_task(desk.john.user, ticket=duplicate, title="Order a roller")
    done = task_services.create_task(desk.john.user, ticket=duplicate, title="Check the tray")
    task_services.close_task(desk.john.user, done)

    services.merge(desk.john.user, keep, sources=[duplicate])

    assert set(Task.objects.values_list("ticket_id", flat=True)) == {keep.pk}
    assert Task.objects.get(pk=task.pk).state == TaskState.OPEN
    assert Ticket.objects.get(pk=duplicate.pk).state == State.CLOSED
    moved = Event.objects.filter(ticket=keep, kind=EventKind.TASK_MOVED).order_by("id")
    assert [event_sentence(e) for e in moved] == [
        f"John Doe merged ticket {duplicate.reference} into this one, with its task #{task.number} Order a roller",
        f"John Doe merged ticket {duplicate.reference} into this one, with its task #{done.number} Check the tray",
    ]
    history = TaskEvent.objects.filter(task=task, kind="moved").get()
    assert task_event_sentence(history) == (
        f"John Doe merged ticket {duplicate.reference} into {keep.reference}: the task moved with it"
    )
    # The surviving ticket now holds the open task: closing it asks first.
    with pytest.raises(Exception, match="open task"):
        services.set_status(desk.john.user, Ticket.objects.get(pk=keep.pk), status=desk.closed)


def test_a_manager_deletes_a_task_and_the_ticket_keeps_a_line(desk, manager_john):
    ticket = open_ticket(desk, "Printer jams")
    task = task_services.create_task(desk.john.user, ticket=ticket, title="Order a roller")
    task_services.add_task_note(desk.john.user, task, note="Asked the vendor.")

    task_services.delete_task(desk.john.user, task)

    assert not Task.objects.filter(pk=task.pk).exists()
    assert not TaskEntry.objects.exists() and not TaskEvent.objects.exists()
    line = Event.objects.get(ticket=ticket, kind=EventKind.TASK_DELETED)
    assert event_sentence(line) == f"John Doe deleted task #{task.number} Order a roller"
    assert AuditEntry.objects.filter(detail="deleted").exists()


def test_an_agent_without_the_delete_right_cannot_delete_a_task(desk):
    ticket = open_ticket(desk, "Printer jams")
    task = task_services.create_task(desk.john.user, ticket=ticket, title="Order a roller")
    with pytest.raises(PermissionDenied):
        task_services.delete_task(desk.john.user, task)
    assert Task.objects.filter(pk=task.pk).exists()


def test_the_task_page_deletes_after_confirming_and_returns_to_the_ticket(client, desk, manager_john):
    ticket = open_ticket(desk, "Printer jams")
    task = task_services.create_task(desk.john.user, ticket=ticket, title="Order a roller")
    client.force_login(desk.john.user)

    page = client.get(reverse("tasks:task", args=[task.number])).content.decode()
    assert 'id="delete-task"' in page and "This cannot be undone." in page

    response = client.post(reverse("tasks:task_action", args=[task.number, "delete"]), {"delete-version": task.version})
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:ticket", args=[ticket.number])
    assert not Task.objects.filter(pk=task.pk).exists()


def test_the_task_page_offers_no_delete_without_the_right_and_refuses_a_forged_post(client, desk):
    ticket = open_ticket(desk, "Printer jams")
    task = task_services.create_task(desk.john.user, ticket=ticket, title="Order a roller")
    client.force_login(desk.john.user)

    assert 'id="delete-task"' not in client.get(reverse("tasks:task", args=[task.number])).content.decode()
    response = client.post(reverse("tasks:task_action", args=[task.number, "delete"]), {"delete-version": task.version})
    assert response.status_code == 403
    assert Task.objects.filter(pk=task.pk).exists()


def test_a_stale_delete_is_refused(client, desk, manager_john):
    ticket = open_ticket(desk, "Printer jams")
    task = task_services.create_task(desk.john.user, ticket=ticket, title="Order a roller")
    old_version = task.version
    task_services.add_task_note(desk.john.user, task, note="Asked the vendor.")
    client.force_login(desk.john.user)
    response = client.post(reverse("tasks:task_action", args=[task.number, "delete"]), {"delete-version": old_version})
    assert response.status_code == 409
    assert Task.objects.filter(pk=task.pk).exists()
