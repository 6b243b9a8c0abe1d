"""The task pages an agent uses: the ticket page's task list, a new task, the task page and its
forms, the task queue and "My tasks"; refusals are pages, never a 500."""

from __future__ import annotations

import re

import pytest

from django.contrib.messages import get_messages
from django.urls import reverse

from tessera.tasks import services
from tessera.tasks.models import Task, TaskEntry, TaskState


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def task(desk, ken_ticket):
    return services.create_task(desk.john.user, ticket=ken_ticket, title="Check the tray")


def task_url(task, action: str = "") -> str:
    if action:
        return reverse("tasks:task_action", args=[task.number, action])
    return reverse("tasks:task", args=[task.number])


def test_the_ticket_page_lists_its_tasks_and_offers_a_new_one(client, desk, ken_ticket, task):
    client.force_login(desk.john.user)
    page = client.get(reverse("staff:ticket", args=[ken_ticket.number])).content.decode()
    assert f'href="{task_url(task)}"' in page and "Check the tray" in page
    assert f"{reverse('tasks:new')}?ticket={ken_ticket.number}" in page
    assert "John Doe created task" in page  # the line on the ticket's timeline


def test_a_task_is_created_from_the_ticket_page_form(client, desk, ken_ticket):
    client.force_login(desk.john.user)
    form = client.get(reverse("tasks:new"), {"ticket": ken_ticket.number})
    assert form.status_code == 200 and f'name="ticket" value="{ken_ticket.number}"' in form.content.decode()
    response = client.post(
        reverse("tasks:new"),
        {"ticket": ken_ticket.number, "title": "Swap the roller", "assignee": desk.jane.pk, "due_at": ""},
    )
    task = Task.objects.get(title="Swap the roller")
    assert response.status_code == 302 and response["Location"] == task_url(task)
    assert task.ticket == ken_ticket and task.department == desk.support and task.assignee == desk.jane


def test_a_standalone_task_form_keeps_what_was_typed_when_the_title_is_missing(client, desk):
    client.force_login(desk.john.user)
    response = client.post(
        reverse("tasks:new"),
        {"title": "", "description": "Toner for floor 3", "department": desk.support.pk, "due_at": "soon"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give the task a title." in page and "Toner for floor 3" in page
    assert "Enter a date and time" in page and 'value="soon"' in page
    assert not Task.objects.exists()


def test_the_task_page_shows_its_thread_and_takes_a_note(client, desk, task):
    client.force_login(desk.john.user)
    response = client.post(task_url(task, "note"), {"note-note": "Rebooted it.", "note-version": task.version})
    assert response.status_code == 302 and flashes(response) == ["Note added."]
    page = client.get(task_url(task)).content.decode()
    assert "Rebooted it." in page and "John Doe created the task" in page and "John Doe added a note" in page


def test_assign_transfer_close_and_reopen_from_the_task_page(client, desk, task):
    client.force_login(desk.john.user)

    def post(action: str, **data):
        version = Task.objects.get(pk=task.pk).version
        fields = {f"{action}-{key}": value for key, value in data.items()}
        return client.post(task_url(task, action), {**fields, f"{action}-version": version})

    assert post("assign", assignee=desk.jane.pk, team="").status_code == 302
    assert post("transfer", department=desk.sysadmin.pk).status_code == 302
    assert post("close").status_code == 302
    assert Task.objects.get(pk=task.pk).state == TaskState.CLOSED
    assert post("reopen").status_code == 302
    fresh = Task.objects.get(pk=task.pk)
    assert fresh.state == TaskState.OPEN and fresh.assignee == desk.jane and fresh.department == desk.sysadmin


def test_a_stale_form_is_a_409_that_keeps_the_note(client, desk, task):
    client.force_login(desk.john.user)
    services.add_task_note(desk.olga.user, task, note="Meanwhile")
    response = client.post(task_url(task, "note"), {"note-note": "My late note", "note-version": 1})
    assert response.status_code == 409
    page = response.content.decode()
    assert "changed while you were working on it" in page and "My late note" in page
    assert TaskEntry.objects.filter(task=task).count() == 1
    fresh = Task.objects.get(pk=task.pk)
    assert re.search(rf'name="note-version" value="{fresh.version}"', page)


def test_an_agent_of_another_department_gets_404_for_the_task_and_its_forms(client, desk, task):
    client.force_login(desk.bill.user)
    assert client.get(task_url(task)).status_code == 404
    response = client.post(task_url(task, "close"), {"close-version": task.version})
    assert response.status_code == 404
    assert Task.objects.get(pk=task.pk).state == TaskState.OPEN
    assert client.get(reverse("tasks:new"), {"ticket": task.ticket.number}).status_code == 404


def test_an_observer_sees_the_task_without_the_close_button_and_a_forged_close_is_403(client, desk, task):
    client.force_login(desk.olga.user)
    page = client.get(task_url(task)).content.decode()
    assert "Check the tray" in page and 'id="close-task"' not in page
    response = client.post(task_url(task, "close"), {"close-version": task.version})
    assert response.status_code == 403 and "You cannot close this task." in response.content.decode()
    assert Task.objects.get(pk=task.pk).state == TaskState.OPEN


@pytest.mark.parametrize(
    "path",
    [
        "/staff/tasks/99999999999999999999999/",
        "/staff/tasks/0/",
        "/staff/tasks/1/explode/",
        "/staff/tasks/new/?ticket=abc",
        "/staff/tasks/new/?ticket=999999",
        "/staff/tasks/?after=not-a-cursor",
        "/staff/tasks/mine/?after=2026-01-01T00:00:00_x",
    ],
)
def test_hostile_ids_and_cursors_are_answered_without_a_500(client, desk, task, path):
    client.force_login(desk.john.user)
    response = client.post(path) if "explode" in path else client.get(path)
    assert response.status_code in (200, 404)


def test_the_queue_shows_my_departments_open_tasks_and_my_tasks_shows_mine(client, desk, ken_ticket):
    support = services.create_task(desk.john.user, ticket=ken_ticket, title="Support work")
    for_jane = services.create_task(desk.john.user, ticket=ken_ticket, title="For Jane", assignee=desk.jane)
    billing = services.create_task(desk.bill.user, title="Billing work", department=desk.billing)
    done = services.create_task(desk.john.user, ticket=ken_ticket, title="Done already")
    services.close_task(desk.john.user, done)

    client.force_login(desk.john.user)
    queue = client.get(reverse("tasks:queue")).content.decode()
    assert "Support work" in queue and "For Jane" in queue
    assert "Billing work" not in queue and "Done already" not in queue

    client.force_login(desk.jane.user)
    mine = client.get(reverse("tasks:mine")).content.decode()
    assert "For Jane" in mine and "Support work" not in mine
    # Jane sees the task assigned to her, though its ticket is not in her department.
    assert client.get(task_url(for_jane)).status_code == 200
    assert client.get(task_url(support)).status_code == 404
    assert client.get(task_url(billing)).status_code == 404


def test_the_queue_pages_by_keyset(client, desk, ken_ticket, settings, monkeypatch):
    from tessera.tasks import selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    for n in range(3):
        services.create_task(desk.john.user, ticket=ken_ticket, title=f"Task number {n}")
    client.force_login(desk.john.user)
    first = client.get(reverse("tasks:queue")).content.decode()
    assert "Task number 2" in first and "Task number 1" in first and "Task number 0" not in first
    older = re.search(r'href="(/staff/tasks/\?after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).content.decode()
    assert "Task number 0" in second and "Task number 2" not in second


def test_the_sidebar_links_the_task_queues_and_the_shortcut_list_names_the_task_key(client, desk):
    client.force_login(desk.john.user)
    page = client.get(reverse("staff:dashboard")).content.decode()
    assert f'href="{reverse("tasks:queue")}"' in page and f'href="{reverse("tasks:mine")}"' in page
    assert "On a task" in page and "Write a note" in page


def test_a_hostile_title_is_shown_as_text(client, desk, ken_ticket):
    task = services.create_task(
        desk.john.user, ticket=ken_ticket, title="Tray &lt;img src=x onerror=alert(1)&gt; <b>x</b>"
    )
    client.force_login(desk.john.user)
    for url in (task_url(task), reverse("tasks:queue"), reverse("staff:ticket", args=[ken_ticket.number])):
        assert "<img src=x" not in client.get(url).content.decode()
