"""Issue 12's story, performed with real MIME, a real SMTP peer and Chromium: a VIP customer's
emergency is routed by a rule, handed out in turn, warned about, escalated to the team lead when
nobody answers, marked overdue, resolved in the workspace and closed by itself days later.

The clock is the services' clock (`timezone.now`), moved by the test: the live server runs in a
thread of this process, so the pages see the same moment as the scans the test runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from playwright.sync_api import Browser, expect

from django.urls import reverse
from django.utils import timezone

from tests.conftest import body_text

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e

SUBJECT = "Production database is down"
PROBLEM = "Our production database stopped answering at 08:55; every order fails."
# A Monday morning: every time below is this plus minutes, shown in UTC (the desk's zone).
OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def victor_writes() -> bytes:
    """The VIP customer's message, as his mail client sends it to support@."""
    message = EmailMessage()
    message["From"] = "Victor Price <victor@vip.example>"
    message["To"] = "Support <support@example.com>"
    message["Subject"] = SUBJECT
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain="vip.example")
    message.set_content(PROBLEM)
    return message.as_bytes()


def mails_to(smtp, address: str, predicate) -> list[EmailMessage]:
    """The messages `address` received that match, parsed from the bytes the SMTP peer saw
    (waiting for the first of them)."""
    smtp.wait_for(lambda m: address in m["To"] and predicate(m))
    parsed = (message_from_bytes(e.content, policy=policy.default) for e in smtp.envelopes)
    return [m for m in parsed if address in m["To"] and predicate(m)]


@pytest.fixture
def clock(monkeypatch):
    """clock(minutes) sets the services' (and the live server's) now to OPENED + minutes."""

    def _set(minutes: float) -> datetime:
        moment = OPENED + timedelta(minutes=minutes)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return _set


@pytest.fixture
def vip_desk(desk):
    """What the administrator set up: the VIP routing rule, System Administration handing out
    tickets in turn on a 24×7 plan with Sev-A targets, and the no-response escalation to Jane,
    the lead of the on-call team. Sam joins System Administration; Jane took its last ticket."""
    from tessera.accounts.models import Agent, AssignmentMode, Membership, Role, User
    from tessera.automation.models import AssignmentCursor, EscalationRule, Trigger
    from tessera.rules.models import Action, ActionKind, Condition, Field, Operator, Rule
    from tessera.sla.models import Schedule, ScheduleInterval, SlaPlan, SlaTarget

    sam_user = User.objects.create_user("sam@example.com", desk.password, name="Sam Stone")
    sam = Agent.objects.create(user=sam_user)
    Membership.objects.create(agent=sam, department=desk.sysadmin, role=Role.objects.get(name="Agent"), is_primary=True)

    rule = Rule.objects.create(name="VIP customers")
    Condition.objects.create(rule=rule, field=Field.SENDER_DOMAIN, operator=Operator.EQUALS, value="vip.example")
    Action.objects.create(rule=rule, kind=ActionKind.DEPARTMENT, department=desk.sysadmin)
    Action.objects.create(rule=rule, kind=ActionKind.PRIORITY, priority=desk.sev_a)

    # The migration's 24×7 schedule, made again when a transactional test truncated it.
    always, made = Schedule.objects.get_or_create(name="24×7", defaults={"time_zone": "UTC"})
    if made:
        for weekday in range(7):
            ScheduleInterval.objects.create(schedule=always, weekday=weekday, start=time(0), end=time(0))
    plan = SlaPlan.objects.create(name="VIP 24×7", schedule=always, first_response_minutes=60, resolution_minutes=480)
    SlaTarget.objects.create(plan=plan, priority=desk.sev_a, first_response_minutes=15, resolution_minutes=240)

    desk.sysadmin.sla_plan = plan
    desk.sysadmin.assignment_mode = AssignmentMode.ROUND_ROBIN
    desk.sysadmin.auto_close_days = 3
    desk.sysadmin.save()
    AssignmentCursor.objects.create(scope=f"department:{desk.sysadmin.pk}", last_agent_pk=desk.jane.pk)

    escalation = EscalationRule.objects.create(
        name="Unanswered emergency",
        department=desk.sysadmin,
        trigger=Trigger.NO_RESPONSE,
        minutes=30,
        assign_agent=desk.ops.lead,
    )
    escalation.notify.add(desk.ops.lead)
    escalation.full_clean()
    return sam


def test_a_vip_emergency_is_routed_assigned_warned_escalated_resolved_and_closed_by_itself(
    transactional_db, desk, vip_desk, site, smtp, settings, clock, browser: Browser
):
    from tessera.automation import autoclose, escalation
    from tessera.mail.ingest import ingest
    from tessera.mail.models import InboundStatus
    from tessera.sla import breaches
    from tessera.tickets.models import State, Ticket

    base = site.url
    sam, jane = vip_desk, desk.jane
    # Days pass on the services' clock while the agents stay signed in: the idle timeout (which
    # reads the wall clock today) is off, so it cannot end the story if it ever reads timezone.now.
    settings.TESSERA = {**settings.TESSERA, "SESSION_IDLE_MINUTES": 0}

    # 1. Victor's email arrives at 09:00: the rule sends it to System Administration as Sev-A,
    #    and Sam (whose turn it is) gets it, with the plan's 15-minute first response.
    clock(0)
    inbound = ingest(victor_writes(), channel="pipe")
    assert inbound.status == InboundStatus.TICKET, inbound.reason
    assert inbound.ticket_id is not None
    ticket = Ticket.objects.get(pk=inbound.ticket_id)
    assert (ticket.department, ticket.priority, ticket.assignee) == (desk.sysadmin, desk.sev_a, sam)
    assert ticket.first_response_due_at == OPENED + timedelta(minutes=15)
    assert ticket.due_at == OPENED + timedelta(hours=4)

    sam_page = browser.new_context().new_page()
    sign_in_to_workspace(sam_page, base, "sam@example.com", desk.password)
    sam_page.goto(base + reverse("staff:queue", args=["mine"]) + "?cols=status,due")
    row = sam_page.locator(f"#ticket-row-{ticket.pk}")
    expect(row.get_by_role("link", name=SUBJECT)).to_be_visible()
    due = row.locator("time.due")
    expect(due).to_have_text("in 15 min")  # the queue row's short form
    expect(due).to_have_attribute("title", "First response due: Monday 2 March 2026, 09:15 UTC")

    row.get_by_role("link", name=SUBJECT).click()
    expect(sam_page.get_by_role("heading", name=SUBJECT)).to_be_visible()
    expect(sam_page.get_by_text(re.compile(r"Routing rule VIP customers applied"))).to_be_visible()
    expect(sam_page.get_by_text("Assigned to Sam Stone automatically (round robin)")).to_be_visible()

    # 2. At 09:13 the scan finds three quarters of the first-response time gone: Sam is warned.
    assert breaches.run(clock(13)) == 1
    warning = mails_to(smtp, "sam@example.com", lambda m: "First response nearly due" in m["Subject"])
    assert len(warning) == 1
    text = body_text(warning[0])
    assert f"[{ticket.reference}]" in warning[0]["Subject"]
    assert "This ticket still waits for its first response, which is due soon." in text
    assert "First response due: Monday 2 March 2026, 09:15 UTC" in text
    assert f"{base}/staff/tickets/{ticket.number}/" in text
    assert breaches.run(clock(14)) == 0  # once, however often the scan runs

    # 3. At 09:31 nobody has answered for 30 minutes: the rule hands the ticket to Jane, the
    #    team lead, and tells her; the missed first response is announced to her as well.
    assert escalation.run(clock(31)) == 1
    assert breaches.run(clock(31)) == 1
    assert escalation.run(clock(32)) == 0 and breaches.run(clock(32)) == 0
    ticket.refresh_from_db()
    assert ticket.assignee == jane
    assert ticket.first_response_breached
    told = mails_to(smtp, "jane@example.com", lambda m: "escalated" in m["Subject"])
    assert len(told) == 1 and f"[{ticket.reference}]" in told[0]["Subject"]
    assert "The escalation rule “Unanswered emergency” asks you to look at it." in body_text(told[0])
    mails_to(smtp, "jane@example.com", lambda m: "Assigned to you" in m["Subject"])
    overdue = mails_to(smtp, "jane@example.com", lambda m: "Overdue" in m["Subject"])
    assert len(overdue) == 1 and f"[{ticket.reference}]" in overdue[0]["Subject"]
    assert "First response due: Monday 2 March 2026, 09:15 UTC" in body_text(overdue[0])
    # Sam, no longer handling it, hears nothing more about it.
    assert not [m for m in smtp.to("sam@example.com") if "Overdue" in m["Subject"]]

    jane_page = browser.new_context().new_page()
    sign_in_to_workspace(jane_page, base, "jane@example.com", desk.password)
    jane_page.goto(base + reverse("staff:queue", args=["mine"]) + "?cols=status,due")
    jane_row = jane_page.locator(f"#ticket-row-{ticket.pk}")
    expect(jane_row.locator("time.due")).to_have_text("17 min overdue")
    jane_row.get_by_role("link", name=SUBJECT).click()
    expect(jane_page.get_by_role("heading", name=SUBJECT)).to_be_visible()
    expect(jane_page.locator("time.due-overdue").first).to_have_text("overdue by 17 min")
    expect(
        jane_page.get_by_text("Escalation rule “Unanswered emergency” reassigned the ticket from Sam Stone to Jane Doe")
    ).to_be_visible()
    expect(jane_page.get_by_text("The first response was not given in time (SLA missed)")).to_be_visible()

    # 4. Jane fixes the database and resolves the ticket from the properties panel at 09:40;
    #    Victor is told it closes by itself three days later unless he writes.
    clock(40)
    jane_page.reload()
    jane_page.get_by_label("Status", exact=True).select_option(label="Resolved")
    expect(jane_page.locator("#properties-status")).to_contain_text("Status changed to Resolved.")
    expect(jane_page.locator("#ticket-badges").get_by_text("Resolved")).to_be_visible()
    resolved = mails_to(smtp, "victor@vip.example", lambda m: "this ticket will close on" in body_text(m))
    assert len(resolved) == 1 and f"[{ticket.reference}]" in resolved[0]["Subject"]
    assert "this ticket will close on Thursday 5 March 2026, 09:40 UTC." in body_text(resolved[0])

    # 5. Nothing closes before the quiet period ends; right after, it closes by itself.
    assert autoclose.run(clock(40 + 3 * 24 * 60 - 1)) == 0
    assert autoclose.run(clock(40 + 3 * 24 * 60)) == 1
    ticket.refresh_from_db()
    assert ticket.state == State.CLOSED
    jane_page.reload()
    expect(jane_page.locator("#ticket-badges").get_by_text("Closed")).to_be_visible()
    expect(jane_page.get_by_text("Closed automatically after 3 days without reply")).to_be_visible()
