"""Tasks through their services: numbers, every change recorded on the task and on its ticket's
timeline, who may see and change them, stale forms."""

from __future__ import annotations

from datetime import timedelta

import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tessera.tasks import services
from tessera.tasks.models import Task, TaskEntry, TaskEvent, TaskEventKind, TaskState
from tessera.tickets import policy
from tessera.tickets import services as ticket_services
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import Event, EventKind
from tessera.tickets.policy import TaskAction


@pytest.fixture
def task(desk, ken_ticket):
    return services.create_task(desk.john.user, ticket=ken_ticket, title="Check the tray", description="Floor 3")


def ticket_lines(ticket):
    return list(Event.objects.filter(ticket=ticket, kind__startswith="task_").order_by("id"))


def test_a_task_on_a_ticket_takes_the_ticket_department_and_its_own_number(desk, ken_ticket):
    first = services.create_task(desk.john.user, ticket=ken_ticket, title="Check the tray")
    second = services.create_task(desk.john.user, ticket=ken_ticket, title="Order a roller")
    assert first.department == desk.support and first.ticket == ken_ticket
    assert second.number == first.number + 1
    assert first.number != ken_ticket.number and first.state == TaskState.OPEN


def test_creating_a_task_records_it_on_the_task_and_the_ticket_timeline(desk, ken_ticket, task):
    assert [e.kind for e in TaskEvent.objects.filter(task=task)] == [TaskEventKind.CREATED]
    (line,) = ticket_lines(ken_ticket)
    assert line.kind == EventKind.TASK_CREATED and line.actor == desk.john.user
    assert event_sentence(line) == f"John Doe created task #{task.number} Check the tray"


def test_a_standalone_task_needs_a_department_and_writes_no_ticket_event(desk):
    with pytest.raises(ValidationError) as refused:
        services.create_task(desk.john.user, title="Order toner")
    assert "department" in refused.value.message_dict
    task = services.create_task(desk.john.user, title="Order toner", department=desk.billing)
    assert task.ticket is None and task.department == desk.billing
    assert not Event.objects.filter(kind__startswith="task_").exists()
    assert TaskEvent.objects.filter(task=task, kind=TaskEventKind.CREATED).exists()


def test_a_task_assigned_as_it_is_created_says_so_twice(desk, ken_ticket):
    task = services.create_task(desk.john.user, ticket=ken_ticket, title="Cable", assignee=desk.jane)
    assert [e.kind for e in TaskEvent.objects.filter(task=task).order_by("id")] == ["created", "assigned"]
    assert [e.kind for e in ticket_lines(ken_ticket)] == [EventKind.TASK_CREATED, EventKind.TASK_ASSIGNED]


def test_the_description_is_sanitised_and_the_title_is_one_plain_line(desk, ken_ticket):
    task = services.create_task(
        desk.john.user,
        ticket=ken_ticket,
        title="<b>Tray</b>\r\nBcc: x@evil.example",
        description="<script>alert(1)</script>**bold**",
    )
    assert "<script>" not in task.description_html and "<strong>bold</strong>" in task.description_html
    assert "\n" not in task.title and "<b>" not in task.title


@pytest.mark.parametrize(
    ("change", "task_kind", "ticket_kind"),
    [
        (
            lambda desk, t: services.update_task(desk.john.user, t, title="New title", description="", due_at=None),
            TaskEventKind.UPDATED,
            EventKind.TASK_UPDATED,
        ),
        (lambda desk, t: services.assign_task(desk.john.user, t, agent=desk.jane), "assigned", "task_assigned"),
        (
            lambda desk, t: services.transfer_task(desk.john.user, t, department=desk.sysadmin),
            "transferred",
            "task_transferred",
        ),
        (lambda desk, t: services.add_task_note(desk.john.user, t, note="Rebooted it."), "note", "task_note"),
        (lambda desk, t: services.close_task(desk.john.user, t), "closed", "task_closed"),
    ],
)
def test_every_change_leaves_an_event_on_the_task_and_a_line_on_the_ticket(
    desk, ken_ticket, task, change, task_kind, ticket_kind
):
    version = Task.objects.get(pk=task.pk).version
    change(desk, task)
    assert TaskEvent.objects.filter(task=task).order_by("id").last().kind == task_kind
    line = ticket_lines(ken_ticket)[-1]
    assert line.kind == ticket_kind and f"#{task.number}" in event_sentence(line)
    assert Task.objects.get(pk=task.pk).version == version + 1


def test_closing_then_reopening_a_task(desk, ken_ticket, task):
    closed = services.close_task(desk.john.user, task, expected_version=task.version)
    assert closed.state == TaskState.CLOSED and closed.closed_at is not None
    reopened = services.reopen_task(desk.john.user, closed)
    assert reopened.state == TaskState.OPEN and reopened.closed_at is None
    assert [e.kind for e in ticket_lines(ken_ticket)][-2:] == [EventKind.TASK_CLOSED, EventKind.TASK_REOPENED]
    assert event_sentence(ticket_lines(ken_ticket)[-1]) == f"John Doe reopened task #{task.number} Check the tray"


def test_a_note_is_kept_on_the_task_thread(desk, task):
    entry = services.add_task_note(desk.john.user, task, note="Checked the *cable*.")
    assert TaskEntry.objects.get(pk=entry.pk).body_html == "<p>Checked the <em>cable</em>.</p>\n"
    with pytest.raises(ValidationError):
        services.add_task_note(desk.john.user, task, note="   ")


def test_a_stale_form_is_refused_and_changes_nothing(desk, task):
    services.add_task_note(desk.john.user, task, note="First")
    with pytest.raises(services.StaleTask):
        services.update_task(desk.john.user, task, title="Changed", description="", due_at=None, expected_version=1)
    assert Task.objects.get(pk=task.pk).title == "Check the tray"


def test_an_agent_of_another_department_cannot_see_or_change_the_task(desk, task):
    assert policy.task_perms(desk.bill.user, task) is None
    with pytest.raises(PermissionDenied):
        services.add_task_note(desk.bill.user, task, note="Hello")
    with pytest.raises(PermissionDenied):
        services.close_task(desk.bill.user, task)


def test_the_assignee_and_the_team_see_a_task_outside_their_department(desk, task):
    assert not policy.can_task(desk.jane.user, TaskAction.VIEW, task)
    services.transfer_task(desk.john.user, task, department=desk.billing)
    task.refresh_from_db()
    services.assign_task(desk.john.user, task, agent=None, team=desk.ops)
    task.refresh_from_db()
    # Jane is on the team: she sees it and may close it with her own role.
    assert policy.can_task(desk.jane.user, TaskAction.CLOSE, task)
    # John still sees it through his ticket.
    assert policy.can_task(desk.john.user, TaskAction.VIEW, task)


def test_an_observer_may_read_and_note_but_not_close_or_create(desk, ken_ticket, task):
    assert policy.can_task(desk.olga.user, TaskAction.VIEW, task)
    assert policy.can_task(desk.olga.user, TaskAction.NOTE, task)
    with pytest.raises(PermissionDenied, match=f"You cannot close task #{task.number}"):
        services.close_task(desk.olga.user, task)
    with pytest.raises(PermissionDenied):
        services.create_task(desk.olga.user, ticket=ken_ticket, title="Mine")


def test_no_tasks_on_a_closed_ticket_and_its_tasks_stay_closed(desk, ken_ticket, task):
    services.close_task(desk.john.user, task)
    ticket_services.set_status(desk.john.user, ken_ticket, status=desk.closed)
    with pytest.raises(PermissionDenied):
        services.create_task(desk.john.user, ticket=ken_ticket, title="Late")
    with pytest.raises(ValidationError, match="reopen the ticket"):
        services.reopen_task(desk.john.user, Task.objects.get(pk=task.pk))


def test_a_due_date_is_kept_and_editing_nothing_is_refused(desk, task):
    due = timezone.now().replace(microsecond=0) + timedelta(days=2)
    edited = services.update_task(desk.john.user, task, title=task.title, description="Floor 3", due_at=due)
    assert edited.due_at == due
    with pytest.raises(ValidationError, match="Nothing was changed"):
        services.update_task(desk.john.user, edited, title=task.title, description="Floor 3", due_at=due)
