"""Who is told what, by real email: Django's SMTP backend talking to an aiosmtpd server.

Services announce changes with transaction.on_commit; the test transaction never commits, so
each call runs inside django_capture_on_commit_callbacks(execute=True).
"""

from __future__ import annotations

import importlib
import logging
import re
from datetime import timedelta
from email.utils import parseaddr

import pytest

from django.apps import apps as django_apps
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tessera.accounts.models import Agent, Membership, Role, User
from tessera.mail.models import Delivery
from tessera.tickets import access_links, notifications, services
from tessera.tickets.models import ALERT_DEFAULTS, AlertSetting, Collaborator, Ticket

from ..conftest import SmtpSink, free_port, smtp_peer
from .helpers import fresh

KEN, KIM, JOHN, JANE, OLGA, BILL = (
    "ken@example.com", "kim@example.com", "john@example.com", "jane@example.com", "olga@example.com",
    "bill@example.com",
)  # fmt: skip
SAM = "sam@example.com"
THREAD_ROOT = re.compile(r"^<ticket-(\d+)@localhost>$")
MESSAGE_ID = re.compile(r"^<[^<>@\s]+@localhost>$")


@pytest.fixture(autouse=True)
def _alert_settings(db):
    """The rows migration 0007 writes. A transactional test elsewhere (the browser stories on
    PostgreSQL) truncates every table, migration data included, so they are put back here."""
    for event, groups in ALERT_DEFAULTS.items():
        AlertSetting.objects.get_or_create(event=event, defaults=groups)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service call as if its transaction had committed, so its notifications go out."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def opened(desk, smtp, committed):
    """Ken's ticket, opened with notifications running; the mailbox is then emptied."""
    ticket = committed(
        services.open_ticket,
        desk.ken,
        requester=desk.ken,
        subject="Printer jams",
        message="It jams on **page two**.",
        topic=desk.general,
    )
    smtp.envelopes.clear()
    return ticket


def recipients(smtp) -> list[str]:
    return sorted(parseaddr(m["To"])[1] for m in smtp.messages)


def text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def workspace_link(ticket) -> str:
    return settings.TESSERA["BASE_URL"].rstrip("/") + reverse("staff:ticket", args=[ticket.number])


def access_token(message) -> str:
    match = re.search(r"/t/([^/\s\"]+)/", text(message))
    assert match, "no access link in the message"
    return match.group(1)


# ---------------------------------------------------------------------------- a new ticket


def test_ken_is_told_his_ticket_was_opened_with_a_link_that_lets_him_in(desk, smtp, committed):
    ticket = committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Printer jams", message="Hi", topic=desk.general
    )

    [ack] = smtp.to(KEN)
    assert ack["Subject"] == f"[#{ticket.number}] We received your request: Printer jams"
    assert ack["From"] == "Support <support@example.com>"
    assert f"opened ticket #{ticket.number}" in text(ack)
    assert access_links.resolve_token(access_token(ack)) == (ticket, desk.ken)
    assert ack["Auto-Submitted"] == "auto-replied"


def test_support_agents_hear_of_a_new_ticket_but_not_the_agent_who_opened_it(desk, smtp, committed):
    committed(
        services.open_ticket,
        desk.john.user,
        requester=desk.ken,
        subject="Printer jams",
        message="Ken phoned: it jams on page two.",
        topic=desk.general,
    )

    assert recipients(smtp) == [KEN, OLGA]  # Ken's acknowledgement, Olga's alert; John opened it
    [alert] = smtp.to(OLGA)
    assert alert["Subject"].endswith("New ticket in Support: Printer jams")
    assert "Ken Adams opened a ticket in Support (priority Sev-C (Normal))." in text(alert)
    assert "Ken phoned: it jams on page two." in text(alert)
    assert "/staff/tickets/" in text(alert)  # agents get the workspace link, not an access token
    assert alert["Auto-Submitted"] == "auto-generated"


def test_when_ken_opens_a_ticket_every_support_agent_is_alerted(desk, opened, smtp, committed):
    committed(services.open_ticket, desk.ken, requester=desk.ken, subject="Again", message="Hi", topic=desk.general)

    assert recipients(smtp) == [JOHN, KEN, OLGA]


# ---------------------------------------------------------------------------- the conversation


def test_ken_and_everyone_copied_get_the_agents_reply_each_with_their_own_link(desk, opened, kim, smtp, committed):
    Collaborator.objects.create(ticket=opened, user=kim)

    committed(services.reply, desk.john.user, opened, message="Try **tray 2**.")

    assert recipients(smtp) == [KEN, KIM]
    for address, person in ((KEN, desk.ken), (KIM, kim)):
        [reply] = smtp.to(address)
        assert reply["Subject"] == f"[#{opened.number}] Re: Printer jams"
        assert "Try **tray 2**." in text(reply)
        assert "John Doe" in text(reply)
        assert "<strong>tray 2</strong>" in html(reply)
        assert access_links.resolve_token(access_token(reply)) == (fresh(opened), person)
        assert reply["Auto-Submitted"] is None  # a person wrote it


def test_internal_notes_never_reach_the_customer_or_anyone_copied(desk, opened, kim, smtp, committed):
    Collaborator.objects.create(ticket=opened, user=kim)
    ticket = services.assign(desk.john.user, opened, agent=desk.jane)

    committed(services.add_note, desk.john.user, ticket, note="Ken's printer is out of warranty.")
    committed(services.assign, desk.john.user, fresh(ticket), agent=desk.john, note="Taking it back: warranty.")

    assert KEN not in recipients(smtp) and KIM not in recipients(smtp)
    alert = smtp.wait_for(lambda m: JANE in m["To"] and "out of warranty" in text(m))[0]
    assert alert["Subject"].endswith("Update: Printer jams")
    assert "Internal note by" in html(alert)


def test_a_disabled_assignee_gets_no_internal_notes(desk, opened, smtp, committed):
    ticket = services.assign(desk.john.user, opened, agent=desk.jane)
    Agent.objects.filter(pk=desk.jane.pk).update(is_active=False)

    committed(services.add_note, desk.john.user, ticket, note="Confidential: warranty lapsed.")

    assert smtp.messages == []


def test_the_assigned_agent_hears_when_ken_writes_again(desk, opened, smtp, committed):
    ticket = services.assign(desk.john.user, opened, agent=desk.jane)

    committed(services.reply, desk.ken, ticket, message="Tray 2 jams too.")

    [alert] = smtp.messages
    assert parseaddr(alert["To"])[1] == JANE
    assert alert["Subject"].endswith("New message: Printer jams")
    assert "Tray 2 jams too." in text(alert)


def test_with_nobody_assigned_the_departments_agents_hear_when_ken_writes(desk, opened, smtp, committed):
    committed(services.reply, desk.ken, opened, message="Any news?")

    assert recipients(smtp) == [JOHN, OLGA]


# ---------------------------------------------------------------------------- routing


def test_the_newly_assigned_agent_is_told(desk, opened, smtp, committed):
    committed(services.assign, desk.john.user, opened, agent=desk.jane)

    [alert] = smtp.messages
    assert parseaddr(alert["To"])[1] == JANE
    assert alert["Subject"].endswith("Assigned to you: Printer jams")
    assert "The ticket is now assigned to Jane Doe." in text(alert)


def test_an_agent_who_assigns_a_ticket_to_themselves_gets_no_mail(desk, opened, smtp, committed):
    committed(services.assign, desk.john.user, opened, agent=desk.john)

    assert smtp.messages == []


def test_team_members_are_told_the_ticket_is_their_teams(desk, opened, smtp, committed):
    desk.ops.members.add(desk.bill)

    committed(services.assign, desk.john.user, opened, team=desk.ops)

    assert recipients(smtp) == [BILL, JANE]
    for message in smtp.messages:
        assert "Assigned to your team Infrastructure on-call: Printer jams" in message["Subject"]


def test_a_transfer_to_an_agent_sends_her_one_mail_and_the_department_one_each(desk, opened, smtp, committed):
    sam = Agent.objects.create(user=User.objects.create_user(SAM, "pw-sam-123456", name="Sam Ops"))
    Membership.objects.create(agent=sam, department=desk.sysadmin, role=Role.objects.get(name="Agent"))

    committed(services.transfer, desk.john.user, opened, department=desk.sysadmin, agent=desk.jane, note="Needs root.")

    assert recipients(smtp) == [JANE, SAM]
    [to_jane] = smtp.to(JANE)
    assert to_jane["Subject"].endswith("Assigned to you: Printer jams")
    assert "The ticket was transferred to System Administration." in text(to_jane)
    [to_sam] = smtp.to(SAM)
    assert to_sam["Subject"].endswith("Transferred to System Administration: Printer jams")
    for alert in (to_jane, to_sam):
        body = text(alert)
        assert "By: John Doe" in body and "Needs root." in body
        assert "It jams on **page two**." in body  # the customer's latest message
        assert workspace_link(opened) in body


# ---------------------------------------------------------------------------- resolution


def test_ken_is_told_when_his_ticket_is_resolved_and_when_it_is_closed(desk, opened, smtp, committed):
    ticket = committed(services.set_status, desk.john.user, opened, status=desk.resolved)
    [resolved] = smtp.to(KEN)
    assert resolved["Subject"].endswith("Resolved: Printer jams")
    assert "just reply and the ticket reopens" in text(resolved)

    committed(services.set_status, desk.john.user, ticket, status=desk.closed)
    closed = smtp.to(KEN)[-1]
    assert closed["Subject"].endswith("Closed: Printer jams")
    assert len(smtp.to(KEN)) == 2


def test_ken_gets_no_mail_about_closing_his_own_ticket(desk, opened, smtp, committed):
    committed(services.close_by_user, desk.ken, opened)

    assert KEN not in recipients(smtp)


# ---------------------------------------------------------------------------- one action, one mail


def sent(smtp) -> list[tuple[str, str]]:
    """(recipient, subject after the reference) of every mail, in the order they were sent."""
    return [(parseaddr(m["To"])[1], m["Subject"].split("] ", 1)[1]) for m in smtp.messages]


def test_opening_a_ticket_sends_ken_one_acknowledgement_and_each_support_agent_one_alert(desk, smtp, committed):
    ticket = committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Printer jams", message="Page two.",
        topic=desk.general,
    )  # fmt: skip

    alert = "New ticket in Support: Printer jams"
    assert sorted(sent(smtp)) == [(JOHN, alert), (KEN, "We received your request: Printer jams"), (OLGA, alert)]
    assert sent(smtp)[0][0] == KEN  # the acknowledgement is the first step
    alert = smtp.to(JOHN)[0]
    assert "Priority: " + ticket.priority.name in text(alert)
    assert workspace_link(ticket) in text(alert)


def test_a_reply_sends_ken_one_mail_and_says_nothing_about_resolution(desk, opened, smtp, committed):
    committed(services.reply, desk.john.user, opened, message="Try tray 2.")

    assert sent(smtp) == [(KEN, "Re: Printer jams")]
    assert "now resolved" not in text(smtp.messages[0])


def test_a_reply_that_resolves_is_one_mail_to_ken_saying_so_then_one_alert_to_the_assignee(
    desk, opened, smtp, committed
):
    ticket = services.assign(desk.john.user, opened, agent=desk.jane)  # not committed: no mail

    committed(services.reply, desk.john.user, fresh(ticket), message="Replaced the roller.", status=desk.resolved)

    assert [to for to, _subject in sent(smtp)] == [KEN, JANE]
    [reply] = smtp.to(KEN)
    assert reply["Subject"].endswith("Re: Printer jams")
    body = text(reply)
    assert body.index("Replaced the roller.") < body.index("This ticket is now resolved.")
    assert "This ticket is now resolved." in html(reply)
    [alert] = smtp.to(JANE)
    assert "Replaced the roller." in text(alert) and "By: John Doe" in text(alert)


def test_an_internal_note_alerts_the_assignee_once_and_never_ken(desk, opened, smtp, committed):
    ticket = services.assign(desk.john.user, opened, agent=desk.jane)

    committed(services.add_note, desk.john.user, fresh(ticket), note="Out of warranty.")

    assert [to for to, _subject in sent(smtp)] == [JANE]
    assert "Out of warranty." in text(smtp.messages[0])


def test_an_assignment_with_a_reason_is_one_mail_to_the_new_agent_with_the_reason(desk, opened, smtp, committed):
    opened.due_at = timezone.now() + timedelta(hours=4)
    opened.save(update_fields=["due_at"])

    committed(services.assign, desk.john.user, fresh(opened), agent=desk.jane, note="You know this model.")

    assert sent(smtp) == [(JANE, "Assigned to you: Printer jams")]
    body = text(smtp.messages[0])
    assert "By: John Doe" in body and "You know this model." in body and "Due: " in body
    assert "It jams on **page two**." in body
    assert workspace_link(opened) in body


def test_closing_sends_ken_one_closed_notice(desk, opened, smtp, committed):
    committed(services.set_status, desk.john.user, opened, status=desk.closed)

    assert sent(smtp) == [(KEN, "Closed: Printer jams")]


def test_mails_of_separate_actions_go_out_in_the_order_the_actions_happened(desk, opened, smtp, committed):
    committed(services.reply, desk.john.user, opened, message="First.")
    committed(services.set_status, desk.john.user, fresh(opened), status=desk.resolved)

    assert sent(smtp) == [(KEN, "Re: Printer jams"), (KEN, "Resolved: Printer jams")]


# ---------------------------------------------------------------------------- alerts the administrator chose


def test_every_desk_starts_with_todays_alerts_configured(db):
    AlertSetting.objects.all().delete()
    importlib.import_module("tessera.tickets.migrations.0007_alert_settings").create_rows(django_apps, None)
    rows = {r.event: (r.assignee, r.team, r.department, r.manager) for r in AlertSetting.objects.all()}
    assert rows == {
        "new_ticket": (False, False, True, False),
        "new_message": (True, True, True, False),
        "internal_note": (True, False, False, False),
        "assignment": (True, True, False, False),
        "transfer": (False, False, True, False),
        "overdue": (True, False, False, True),
    }


def test_switching_the_new_ticket_alert_off_for_the_department_stops_it(desk, smtp, committed):
    AlertSetting.objects.filter(event="new_ticket").update(department=False)
    notifications.alert_groups.forget()  # update() sends no signal; the admin's save() does

    committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Printer jams", message="Hi", topic=desk.general
    )

    assert recipients(smtp) == [KEN]  # the acknowledgement still goes; no agent is alerted


def test_a_transfer_alert_can_go_to_the_department_manager_instead_of_its_agents(desk, opened, smtp, committed):
    setting = AlertSetting.objects.get(event="transfer")
    setting.department, setting.manager = False, True
    setting.save()
    desk.sysadmin.manager = sam = Agent.objects.create(user=User.objects.create_user(SAM, "pw-sam-123456"))
    desk.sysadmin.save()
    Membership.objects.create(agent=sam, department=desk.sysadmin, role=Role.objects.get(name="Agent"))

    committed(services.transfer, desk.john.user, opened, department=desk.sysadmin, note="Server side.")

    assert sent(smtp) == [(SAM, "Transferred to System Administration: Printer jams")]  # not Jane
    assert "Server side." in text(smtp.messages[0])


def test_a_note_alert_switched_off_for_the_assignee_reaches_nobody(desk, opened, smtp, committed):
    setting = AlertSetting.objects.get(event="internal_note")
    setting.assignee = False
    setting.save()
    ticket = services.assign(desk.john.user, opened, agent=desk.jane)

    committed(services.add_note, desk.john.user, fresh(ticket), note="Out of warranty.")

    assert smtp.messages == []


# ---------------------------------------------------------------------------- the messages themselves


def test_messages_are_multipart_text_and_html_threaded_under_the_ticket(desk, opened, smtp, committed):
    [ack] = Delivery.objects.filter(ticket=opened, recipient=KEN, notice="new_ticket")
    committed(services.reply, desk.john.user, opened, message="First.")
    committed(services.reply, desk.john.user, fresh(opened), message="Second.")

    first, second = smtp.to(KEN)
    for message in (first, second):
        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        assert html(message).lstrip().startswith("<!doctype html>")
        assert MESSAGE_ID.match(message["Message-ID"]), message["Message-ID"]
        root = THREAD_ROOT.match(message["References"].split()[0])
        assert root and int(root.group(1)) == opened.number
        assert message["X-Tessera-Ticket"] == str(opened.number)
    assert first["Message-ID"] != second["Message-ID"]
    # Each answers the last message Ken got about the ticket, and names all he has seen.
    assert first["In-Reply-To"] == f"<{ack.message_id}>"
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["References"].split()[1:] == [f"<{ack.message_id}>", first["Message-ID"]]


def test_nothing_is_sent_for_a_change_that_was_rolled_back(desk, opened, smtp, django_capture_on_commit_callbacks):
    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Abort), transaction.atomic():
        services.reply(desk.john.user, opened, message="Never sent.")
        raise Abort

    assert callbacks == []
    assert smtp.messages == []


# ---------------------------------------------------------------------------- when mail fails


def test_a_dead_mail_server_neither_breaks_nor_undoes_the_change(desk, settings, committed, caplog):
    """Nothing listens on the port: the change stands, and each message waits for a retry."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},  # nothing listens there
        }
    }
    caplog.set_level(logging.ERROR)

    ticket = committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Printer jams", message="Hi", topic=desk.general
    )
    entry = committed(services.reply, desk.john.user, ticket, message="Try tray 2.")
    committed(services.set_status, desk.john.user, fresh(ticket), status=desk.resolved)

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.state == "resolved"
    assert ticket.entries.filter(pk=entry.pk).exists()
    assert "Could not send new_ticket" in caplog.text
    assert "Could not send response" in caplog.text
    waiting = Delivery.objects.filter(ticket=ticket, recipient=KEN)
    assert sorted(waiting.values_list("notice", flat=True)) == ["new_ticket", "resolved", "response"]
    assert all(d.status == "queued" and d.attempts == 1 and d.next_attempt_at for d in waiting)


class RefusesKim(SmtpSink):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == KIM:
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def picky_smtp(settings):
    with smtp_peer(RefusesKim(), settings) as sink:
        yield sink


def test_one_refused_recipient_does_not_stop_the_others(desk, ken_ticket, kim, picky_smtp, committed, caplog):
    Collaborator.objects.create(ticket=ken_ticket, user=kim)

    committed(services.reply, desk.john.user, ken_ticket, message="Try tray 2.")

    assert recipients(picky_smtp) == [KEN]
    assert "to kim@example.com" in caplog.text
    # A permanent refusal is not retried: agents see it on the ticket at once.
    refused = Delivery.objects.get(ticket=ken_ticket, recipient=KIM)
    assert (refused.status, refused.attempts, refused.last_error) == ("failed", 1, "550 No such mailbox")
    assert Delivery.objects.get(ticket=ken_ticket, recipient=KEN, notice="response").status == "sent"


def test_a_broken_notification_never_reaches_the_person_who_made_the_change(
    desk, opened, smtp, committed, monkeypatch, caplog
):
    from tessera.tickets import notifications

    def broken(*args, **kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr(notifications, "entry_posted", broken)
    caplog.set_level(logging.ERROR)

    entry = committed(services.reply, desk.john.user, opened, message="Try tray 2.")

    assert fresh(opened).entries.filter(pk=entry.pk).exists()
    assert "template missing" in caplog.text


def test_a_department_name_with_a_comma_still_makes_a_valid_sender(desk, smtp, committed):
    desk.support.name = "Support, Tier 1"
    desk.support.save()
    committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Printer jams", message="Hi", topic=desk.general
    )
    [ack] = smtp.to(KEN)
    assert ack["From"].addresses[0].display_name == "Support, Tier 1"
    assert ack["From"].addresses[0].addr_spec == "support@example.com"


def test_people_copied_on_the_ticket_hear_that_it_was_resolved(desk, opened, kim, smtp, committed):
    committed(services.add_collaborator, desk.john.user, opened, user=kim)
    committed(services.set_status, desk.john.user, opened, status=desk.resolved)
    [resolved] = smtp.to("kim@example.com")
    assert resolved["Subject"].endswith("Resolved: Printer jams")


def test_every_email_about_a_ticket_carries_the_same_access_link(desk, opened, smtp, committed):
    import time

    first = access_links.make_token(opened, desk.ken)
    time.sleep(1.1)  # tokens used to embed a timestamp and change every second
    assert access_links.make_token(opened, desk.ken) == first


# ---------------------------------------------------------------------------- with a task worker


@pytest.fixture
def worker_queue(settings):
    """Production's set-up: notifications are task rows in the database, sent by a db_worker."""
    settings.TASKS = {"default": {"BACKEND": "tessera.scheduler.task_backend.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects


def test_a_new_tickets_acknowledgement_and_alert_are_queued_with_the_ticket_as_one_task(desk, worker_queue):
    # No on-commit capture: the task row is written inside the ticket's own transaction.
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="Hi", topic=desk.general
    )
    [queued] = worker_queue.all()
    ticket_id, items = queued.args_kwargs["args"]
    assert ticket_id == ticket.pk and [i["notice"] for i in items] == ["new_ticket", "new_ticket_alert"]


def test_a_change_that_is_rolled_back_leaves_no_mail_queued(desk, worker_queue):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.open_ticket(desk.ken, requester=desk.ken, subject="Printer jams", message="Hi", topic=desk.general)
        raise RuntimeError("the caller's next step failed")
    assert not worker_queue.exists() and not Ticket.objects.exists()


def test_mail_that_cannot_be_queued_never_undoes_the_change(desk, worker_queue, monkeypatch, caplog):
    from django.db import connection

    from tessera.tickets import notifications

    def broken(*args):
        with connection.cursor() as cursor:  # a database error: the transaction must survive it
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(notifications, "ticket_opened", broken)
    caplog.set_level(logging.ERROR)

    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="Hi", topic=desk.general
    )

    assert Ticket.objects.filter(pk=ticket.pk).exists() and not worker_queue.exists()
    assert "Could not queue notifications" in caplog.text


def test_the_worker_sends_each_notice_of_a_change_queued_together(desk, smtp, worker_queue, settings, committed):
    services.open_ticket(desk.ken, requester=desk.ken, subject="Printer jams", message="Hi", topic=desk.general)
    [queued] = worker_queue.all()
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    from tessera.tickets.notifications import deliver_change

    committed(deliver_change.call, *queued.args_kwargs["args"])  # what the db_worker runs
    assert smtp.to(KEN) and smtp.to(JOHN)


def test_one_notice_failing_does_not_stop_the_others_queued_with_it(desk, smtp, committed, monkeypatch):
    from tessera.tickets import notifications

    real = notifications._recipients

    def acknowledgement_broken(notice, *args):
        if notice == "new_ticket":
            raise RuntimeError("template missing")
        return real(notice, *args)

    monkeypatch.setattr(notifications, "_recipients", acknowledgement_broken)
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="Hi", topic=desk.general
    )

    with pytest.raises(RuntimeError, match="template missing"):  # the task fails, visibly
        committed(notifications.deliver.call, ["new_ticket", "new_ticket_alert"], ticket.pk, desk.ken.pk)
    assert not smtp.to(KEN) and smtp.to(JOHN)


# ---------------------------------------------------------------------------- the carrier


class Recorder:
    """A carrier that writes nothing down but who was told what: the core needs no mail app."""

    def __init__(self, declined: frozenset[str] = frozenset()) -> None:
        self.declined = declined
        self.sent: list[tuple[str, str]] = []

    def declines(self, notice, ticket, entry) -> bool:
        return notice in self.declined

    def send(self, notice, ticket, user, entry, extra) -> bool:
        self.sent.append((notice, user.email))
        return True


def test_the_mail_app_is_the_carrier_that_takes_notices_to_people():
    from tessera.mail.notices import MailCarrier
    from tessera.tickets import notifications

    assert isinstance(notifications.carrier(), MailCarrier)


def test_notices_go_through_whichever_carrier_is_registered(desk, smtp, committed, monkeypatch):
    from tessera.tickets import notifications

    recorder = Recorder(declined=frozenset({"new_ticket"}))
    monkeypatch.setattr(notifications, "_carrier", None)
    notifications.register_carrier(recorder)  # monkeypatch puts the mail carrier back afterwards

    committed(services.open_ticket, desk.john.user, requester=desk.ken, subject="Jam", message="Hi", topic=desk.general)

    assert recorder.sent == [("new_ticket_alert", OLGA)]  # the acknowledgement was declined; John acted
    assert smtp.messages == [] and not Delivery.objects.exists()


def test_without_a_carrier_delivering_fails_where_it_is_seen(desk, ken_ticket, monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from tessera.tickets import notifications

    monkeypatch.setattr(notifications, "_carrier", None)

    with pytest.raises(ImproperlyConfigured, match=r"tessera\.mail"):
        notifications.deliver.call("new_ticket_alert", ken_ticket.pk, desk.john.user.pk)


def test_an_administrator_ticks_alerts_per_event_and_group_on_one_admin_page(desk, client):
    client.force_login(desk.admin)
    page = client.get(reverse("admin:tickets_alertsetting_changelist"))
    assert page.status_code == 200
    assert "SLA target nearly due" in page.content.decode()  # the SLA scan's alerts are configurable too

    rows = list(AlertSetting.objects.order_by("pk"))
    form = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": str(len(rows)), "_save": "Save"}
    for i, row in enumerate(rows):
        form[f"form-{i}-id"] = str(row.pk)
        for group in ("assignee", "team", "department", "manager"):
            if getattr(row, group) and not (row.event == "transfer" and group == "department"):
                form[f"form-{i}-{group}"] = "on"
    assert client.post(reverse("admin:tickets_alertsetting_changelist"), form).status_code == 302
    assert notifications.alert_groups()["transfer"] == frozenset()  # the save was seen at once


def test_an_administrators_wording_of_alerts_and_replies_keeps_the_context(desk, opened, smtp, committed):
    from tessera.mail.models import EmailTemplate

    EmailTemplate.objects.create(
        notice="assigned_alert", subject="For you", body="{{ actor.display_name }} says: {{ note.body_text }}"
    )
    EmailTemplate.objects.create(notice="response", subject="Re", body="{{ entry.body_text }}")

    committed(services.assign, desk.john.user, opened, agent=desk.jane, note="Yours.")
    committed(services.reply, desk.john.user, fresh(opened), message="Fixed.", status=desk.resolved)

    assert "John Doe says: Yours." in text(smtp.to(JANE)[0])
    [reply] = smtp.to(KEN)
    assert "Fixed." in text(reply) and "This ticket is now resolved." in text(reply)
    assert "This ticket is now resolved." in html(reply)


def test_with_a_worker_a_reply_that_resolves_is_one_task_row_and_one_mail_to_ken(
    desk, smtp, worker_queue, settings, committed
):
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="Hi", topic=desk.general
    )
    worker_queue.all().delete()

    services.reply(desk.john.user, fresh(ticket), message="Replaced the roller.", status=desk.resolved)

    [queued] = worker_queue.all()
    ticket_id, items = queued.args_kwargs["args"]
    assert [i["notice"] for i in items] == ["resolved", "activity_alert", "response", "activity_alert"]
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    committed(notifications.deliver_change.call, ticket_id, items)
    [reply] = smtp.to(KEN)
    assert "Replaced the roller." in text(reply) and "This ticket is now resolved." in text(reply)
    assert len(smtp.messages) == 1
