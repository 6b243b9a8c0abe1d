"""Task alerts by real email (an aiosmtpd peer): the agent a task is assigned to, the team it is
handed to, and whoever handles it when someone adds a note are told; never the person who made
the change, never when the change rolls back, and a hostile title never becomes a header.

The test transaction never commits, so each service call runs inside
django_capture_on_commit_callbacks(execute=True), as in tests/tickets/test_notifications.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parseaddr

import pytest

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from tessera.accounts.models import Agent, User
from tessera.tasks import services
from tessera.tasks.models import Task

from ..conftest import body_text

JANE, JOHN, OLGA, BILL = "jane@example.com", "john@example.com", "olga@example.com", "bill@example.com"
# What a notice may carry: anything else in the received bytes was injected.
WRITTEN = {
    "content-type",
    "mime-version",
    "subject",
    "from",
    "to",
    "date",
    "message-id",
    "x-tessera-task",
    "auto-submitted",
    "x-auto-response-suppress",
}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def task(desk, ken_ticket, smtp, committed):
    """An unassigned task on Ken's printer ticket, created by John; the mailbox is then empty."""
    made = committed(services.create_task, desk.john.user, ticket=ken_ticket, title="Check the tray")
    smtp.envelopes.clear()
    return made


def to(smtp) -> list[str]:
    return sorted(parseaddr(m["To"])[1] for m in smtp.messages)


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_jane_assigned_by_john_gets_one_mail_naming_the_task_and_linking_to_it(desk, task, smtp, committed):
    committed(services.assign_task, desk.john.user, task, agent=desk.jane)

    [mail] = smtp.messages
    assert parseaddr(mail["To"])[1] == JANE
    assert mail["Subject"] == f"Task {task.reference} assigned to you: Check the tray"
    link = settings.TESSERA["BASE_URL"].rstrip("/") + reverse("tasks:task", args=[task.number])
    assert "John Doe assigned this task to you." in body_text(mail)
    assert link in body_text(mail) and f'href="{link}"' in html_of(mail)
    assert "[#" not in mail["Subject"]  # a reply must not thread onto the ticket with that number


def test_a_task_created_with_an_assignee_alerts_the_assignee(desk, ken_ticket, smtp, committed):
    committed(services.create_task, desk.john.user, ticket=ken_ticket, title="Order a roller", assignee=desk.jane)

    assert to(smtp) == [JANE]
    assert "Order a roller" in smtp.messages[0]["Subject"]


def test_a_team_assignment_reaches_its_members_but_not_the_actor(desk, task, smtp, committed):
    desk.ops.members.add(desk.john, desk.olga)

    committed(services.assign_task, desk.john.user, task, agent=None, team=desk.ops)

    assert to(smtp) == [JANE, OLGA]
    assert all("assigned to your team Infrastructure on-call" in m["Subject"] for m in smtp.messages)


def test_inactive_members_get_nothing(desk, task, smtp, committed):
    # Bill (Billing) joins the team and sees its tasks through it; Olga's account is switched off.
    desk.ops.members.add(desk.bill, desk.olga)
    User.objects.filter(pk=desk.olga.user_id).update(is_active=False)

    committed(services.assign_task, desk.john.user, task, agent=None, team=desk.ops)

    assert to(smtp) == [BILL, JANE]


def test_an_agent_who_assigns_a_task_to_themselves_gets_no_mail(desk, task, smtp, committed):
    committed(services.assign_task, desk.john.user, task, agent=desk.john)
    assert smtp.messages == []


def test_a_note_reaches_the_assignee_but_not_its_author(desk, task, smtp, committed):
    task = committed(services.assign_task, desk.john.user, task, agent=desk.jane)
    smtp.envelopes.clear()

    committed(services.add_task_note, desk.john.user, task, note="The roller is worn <b>out</b>.")

    [mail] = smtp.messages
    assert parseaddr(mail["To"])[1] == JANE
    assert mail["Subject"] == f"New note on task {task.reference}: Check the tray"
    assert "John Doe added a note:" in body_text(mail)
    assert "The roller is worn" in body_text(mail)
    smtp.envelopes.clear()

    # Jane answers on the thread: John is not the assignee, and Jane wrote it; nobody is told.
    committed(services.add_task_note, desk.jane.user, task, note="Replaced it.")
    assert smtp.messages == []


def test_a_note_on_a_team_task_reaches_the_other_members(desk, task, smtp, committed):
    desk.ops.members.add(desk.olga)
    task = committed(services.assign_task, desk.john.user, task, agent=None, team=desk.ops)
    smtp.envelopes.clear()

    committed(services.add_task_note, desk.jane.user, task, note="On it.")

    assert to(smtp) == [OLGA]


def test_nothing_is_sent_when_the_change_rolls_back(desk, task, smtp, django_capture_on_commit_callbacks):
    class Abandon(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abandon), transaction.atomic():
        services.assign_task(desk.john.user, task, agent=desk.jane)
        raise Abandon

    assert Task.objects.get(pk=task.pk).assignee_id is None
    assert smtp.messages == []


@pytest.mark.parametrize(
    "title",
    [
        "Tray\r\nBcc: bcc@attacker.example",
        "=?utf-8?q?Tray=0D=0ABcc=3A_bcc=40attacker=2Eexample?=",
    ],
)
def test_a_hostile_title_does_not_inject_a_header(desk, ken_ticket, smtp, committed, title):
    made = committed(services.create_task, desk.john.user, ticket=ken_ticket, title="Tray")
    # Written behind the services' back (they keep titles to one line), as data stored before that rule.
    Task.objects.filter(pk=made.pk).update(title=title)
    smtp.envelopes.clear()

    committed(services.assign_task, desk.john.user, made, agent=desk.jane)

    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == [JANE]
    [mail] = smtp.messages
    names = {name.lower() for name in mail}
    assert names <= WRITTEN and "bcc" not in names
    assert "\n" not in mail["Subject"] and "=?" not in str(mail["Subject"])


def test_the_due_time_is_shown_in_the_recipients_zone(desk, ken_ticket, smtp, committed):
    desk.jane.user.time_zone = "Europe/Berlin"
    desk.jane.user.save()

    committed(
        services.create_task,
        desk.john.user,
        ticket=ken_ticket,
        title="Swap the toner",
        assignee=desk.jane,
        due_at=datetime(2024, 1, 15, 7, 0, tzinfo=UTC),
    )

    [mail] = smtp.messages
    assert "Due: Monday 15 January 2024, 08:00 CET" in body_text(mail)
    assert "Monday 15 January 2024, 08:00 CET" in html_of(mail)


def test_an_agent_without_an_active_agent_profile_is_not_told(desk, task, smtp, committed):
    task = committed(services.assign_task, desk.john.user, task, agent=desk.jane)
    smtp.envelopes.clear()
    Agent.objects.filter(pk=desk.jane.pk).update(is_active=False)

    committed(services.add_task_note, desk.john.user, task, note="Any news?")

    assert smtp.messages == []


def test_a_standalone_task_alerts_its_assignee(desk, smtp, committed):
    committed(services.create_task, desk.john.user, department=desk.support, title="Inventory", assignee=desk.jane)

    assert to(smtp) == [JANE]


def test_with_a_task_worker_the_alert_is_queued_with_the_change_and_sent_by_it(desk, task, smtp, settings, committed):
    # Production's set-up: the alert is a task row written in the assignment's own transaction.
    settings.TASKS = {"default": {"BACKEND": "tessera.scheduler.task_backend.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    with pytest.raises(RuntimeError), transaction.atomic():
        services.assign_task(desk.john.user, task, agent=desk.jane)
        raise RuntimeError("the caller's next step failed")
    assert not DBTaskResult.objects.exists()

    services.assign_task(desk.john.user, task, agent=desk.jane)
    [queued] = DBTaskResult.objects.all()
    assert smtp.messages == []

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    from tessera.tasks.notifications import deliver

    committed(deliver.call, *queued.args_kwargs["args"])  # what the db_worker runs
    assert to(smtp) == [JANE]
