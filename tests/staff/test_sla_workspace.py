"""Due times in the agent workspace: time left or overdue on queue rows and on the ticket page
in the viewer's zone, the "Breaching in the next hour" and "Overdue" queues and the due filter,
and the panel's SLA plan and due date (saved through the services; hostile values refused)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from types import SimpleNamespace

import pytest

from django.urls import reverse
from django.utils import timezone

from tessera.accounts.models import User
from tessera.sla.models import Schedule, ScheduleInterval, SlaPlan
from tessera.tickets import selectors, services
from tessera.tickets.models import EventKind, Ticket
from tests.tickets.helpers import fresh

from .conftest import ticket_url

HTMX = {"HX-Request": "true"}


@pytest.fixture
def at(monkeypatch):
    """Freeze the clock: at("2026-03-02 10:00") (UTC) makes timezone.now() return it."""

    def _at(text: str) -> datetime:
        moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return _at


@pytest.fixture
def office(desk):
    """A 24×7 "On call" plan (first response in 30 min, resolution in 2 h) and a "Standard" one."""
    always = Schedule.objects.create(name="Always", time_zone="UTC")
    for weekday in range(7):
        ScheduleInterval.objects.create(schedule=always, weekday=weekday, start=time(0), end=time(0))
    on_call = SlaPlan.objects.create(name="On call", schedule=always, first_response_minutes=30, resolution_minutes=120)
    standard = SlaPlan.objects.create(
        name="Standard", schedule=always, first_response_minutes=240, resolution_minutes=1440
    )
    return SimpleNamespace(on_call=on_call, standard=standard)


@pytest.fixture
def on_call(desk, office):
    """Support follows the 24×7 plan."""
    desk.support.sla_plan = office.on_call
    desk.support.save()
    return office.on_call


def open_at(desk, at, moment: str, subject: str = "Printer jams") -> Ticket:
    at(moment)
    return services.open_ticket(desk.ken, requester=desk.ken, subject=subject, message="Hi", topic=desk.general)


def row(html: str, ticket: Ticket) -> str:
    match = re.search(rf'<tr id="ticket-row-{ticket.pk}".*?</tr>', html, re.S)
    assert match, f"ticket {ticket.number} is not listed"
    return match.group(0)


def queue_with_due(client) -> str:
    """The open queue with the Due column chosen (remembered, then the clean address)."""
    return client.get(reverse("staff:queue", args=["open"]), {"cols": "status,due"}, follow=True).content.decode()


@pytest.fixture
def john(client, desk):
    User.objects.filter(pk=desk.john.user_id).update(time_zone="America/New_York")
    client.force_login(desk.john.user)
    return client


# ---------------------------------------------------------------------------- showing it


def test_a_queue_row_says_how_long_is_left_with_the_exact_time_in_the_viewers_zone(desk, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    at("2026-03-02 10:05")
    html = queue_with_due(john)
    cell = row(html, ticket)
    assert ">in 25 min</time>" in cell  # the first response, while unanswered
    assert 'title="First response due: Monday 2 March 2026, 05:30 EST"' in cell


def test_a_queue_row_says_how_long_overdue_once_the_first_response_was_answered(desk, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    at("2026-03-02 10:10")
    services.reply(desk.john.user, ticket, message="On it.")
    at("2026-03-02 12:35")
    cell = row(queue_with_due(john), ticket)
    assert ">35 min overdue</time>" in cell  # the resolution (12:00)
    assert "badge-overdue" in cell


def test_a_paused_ticket_says_so_instead_of_a_time(desk, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    services.set_status(desk.john.user, ticket, status=desk.pending)
    cell = row(queue_with_due(john), ticket)
    assert 'title="Paused: waiting on the customer">Paused</span>' in cell


def test_every_queue_shows_the_time_left_without_choosing_the_column(desk, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    at("2026-03-02 12:00")
    for queue in ("open", "all", "unassigned"):
        html = john.get(reverse("staff:queue", args=[queue])).content.decode()
        assert ">Due</" in html
        assert ">1 h overdue</time>" in row(html, ticket)  # the first response (10:30), in its largest unit


def test_an_agent_may_still_take_the_due_column_off(desk, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    html = john.get(reverse("staff:queue", args=["open"]), {"cols": "status"}, follow=True).content.decode()
    assert "col-due" not in row(html, ticket)


def test_a_long_wait_is_shown_in_its_largest_unit(desk, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    services.set_due_date(desk.john.user, ticket, due_at=datetime(2026, 3, 5, 11, 0, tzinfo=UTC))
    services.reply(desk.john.user, ticket, message="On it.")
    cell = row(john.get(reverse("staff:queue", args=["open"])).content.decode(), ticket)
    assert ">in 3 d</time>" in cell
    assert 'title="Resolution due: Thursday 5 March 2026, 06:00 EST"' in cell


def test_the_ticket_page_shows_the_time_left(desk, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    at("2026-03-02 10:40")
    html = john.get(ticket_url(ticket)).content.decode()
    assert re.search(r'id="prop-due">.*overdue by 10 min', html, re.S)


# ---------------------------------------------------------------------------- queues and filter


def test_the_breaching_and_overdue_queues_list_the_right_tickets_with_their_counts(desk, on_call, at, john):
    late = open_at(desk, at, "2026-03-02 09:00", "Late")  # first response due 09:30
    soon = open_at(desk, at, "2026-03-02 09:50", "Soon")  # due 10:20
    later = open_at(desk, at, "2026-03-02 10:00", "Later")
    services.reply(desk.john.user, later, message="On it.")  # resolution due 12:00: not within the hour
    paused = open_at(desk, at, "2026-03-02 09:55", "Paused")
    services.set_status(desk.john.user, paused, status=desk.pending)
    at("2026-03-02 10:00")
    agent = desk.john
    assert set(selectors.queue_tickets(agent, "breaching")) == {soon}
    assert set(selectors.queue_tickets(agent, "overdue")) == {late}
    counts = selectors.queue_counts(agent)
    assert (counts["breaching"], counts["overdue"]) == (1, 1)
    html = john.get(reverse("staff:queue", args=["breaching"])).content.decode()
    assert "Breaching in the next hour" in html and "Soon" in html and "Late" not in html


def test_the_due_filter_narrows_a_queue(desk, on_call, at, john):
    late = open_at(desk, at, "2026-03-02 09:00", "Late one")
    soon = open_at(desk, at, "2026-03-02 09:50", "Soon one")
    at("2026-03-02 10:00")
    html = john.get(reverse("staff:queue", args=["open"]), {"due": "hour"}).content.decode()
    assert f"ticket-row-{soon.pk}" in html and f"ticket-row-{late.pk}" not in html
    html = john.get(reverse("staff:queue", args=["open"]), {"due": "soonish"}).content.decode()
    assert "was ignored" in html


# ---------------------------------------------------------------------------- changing it


def sla_url(ticket, what: str) -> str:
    return reverse("staff:ticket_sla", args=[ticket.number, what])


def test_an_agent_sets_a_due_date_of_their_own_in_their_zone(desk, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    response = john.post(
        sla_url(ticket, "due"), {"sla-due": "2026-03-03T09:00", "sla-version": fresh(ticket).version}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Due date set." in response.content.decode()
    after = fresh(ticket)
    assert after.due_is_manual and after.due_at.isoformat() == "2026-03-03T14:00:00+00:00"  # 09:00 in New York
    assert after.events.filter(kind=EventKind.DUE_DATE).exists()


def test_an_agent_puts_the_ticket_on_another_plan(desk, office, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    response = john.post(
        sla_url(ticket, "plan"), {"sla-plan": office.standard.pk, "sla-version": fresh(ticket).version}, headers=HTMX
    )
    assert response.status_code == 200
    assert fresh(ticket).sla_plan_id == office.standard.pk and fresh(ticket).sla_plan_fixed


def test_a_stale_panel_is_refused_with_409(desk, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    old = fresh(ticket).version
    services.set_priority(desk.john.user, ticket, priority=desk.sev_a)
    response = john.post(sla_url(ticket, "due"), {"sla-due": "2026-03-03T09:00", "sla-version": old}, headers=HTMX)
    assert response.status_code == 409
    assert not fresh(ticket).due_is_manual


@pytest.mark.parametrize(
    ("what", "value"),
    [
        ("due", "tomorrow-ish"),
        ("due", "2026-13-40T99:00"),
        ("due", "2020-01-01T09:00"),
        ("plan", "abc"),
        ("plan", "99999"),
    ],
)
def test_a_forged_due_date_or_plan_is_refused_with_400(desk, on_call, at, john, what, value):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    before = fresh(ticket)
    response = john.post(sla_url(ticket, what), {f"sla-{what}": value, "sla-version": before.version}, headers=HTMX)
    assert response.status_code == 400
    after = fresh(ticket)
    assert (after.due_at, after.sla_plan_id, after.version) == (before.due_at, before.sla_plan_id, before.version)


def test_another_departments_ticket_is_not_found(desk, on_call, at, client):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    client.force_login(desk.bill.user)
    response = client.post(sla_url(ticket, "due"), {"sla-due": "2026-03-03T09:00", "sla-version": 1}, headers=HTMX)
    assert response.status_code == 404
    assert not fresh(ticket).due_is_manual


def test_an_agent_without_the_right_is_refused_with_403(desk, on_call, at, client):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    client.force_login(desk.olga.user)  # an observer in Support: sees the ticket, changes nothing
    html = client.get(ticket_url(ticket)).content.decode()
    assert 'id="sla-due"' not in html
    response = client.post(
        sla_url(ticket, "due"), {"sla-due": "2026-03-03T09:00", "sla-version": fresh(ticket).version}, headers=HTMX
    )
    assert response.status_code == 403
    assert not fresh(ticket).due_is_manual


# ---------------------------------------------------------------------------- undo


def undo_token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "no Undo offered"
    return match.group(1)


def undo(client, ticket, token: str, htmx: bool = True):
    return client.post(
        reverse("staff:ticket_property_undo", args=[ticket.number]), {"token": token}, headers=HTMX if htmx else {}
    )


def set_due(client, ticket, value: str):
    return client.post(sla_url(ticket, "due"), {"sla-due": value, "sla-version": fresh(ticket).version}, headers=HTMX)


def set_plan(client, ticket, value):
    return client.post(sla_url(ticket, "plan"), {"sla-plan": value, "sla-version": fresh(ticket).version}, headers=HTMX)


def test_undo_takes_an_own_due_date_back_to_the_plans(desk, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    plans_due = fresh(ticket).due_at

    token = undo_token(set_due(john, ticket, "2026-03-03T09:00").content.decode())
    response = undo(john, ticket, token)

    assert response.status_code == 200
    assert "Undone. The SLA plan&#x27;s due date applies again." in response.content.decode()
    after = fresh(ticket)
    assert not after.due_is_manual and after.due_at == plans_due
    assert after.events.filter(kind=EventKind.DUE_DATE).count() == 2  # the undo leaves its own Event
    assert 'name="token"' not in response.content.decode()  # an undo is not itself undone


def test_undo_puts_back_the_agents_earlier_due_date(desk, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    set_due(john, ticket, "2026-03-03T09:00")
    earlier = fresh(ticket).due_at

    token = undo_token(set_due(john, ticket, "2026-03-05T09:00").content.decode())
    assert undo(john, ticket, token).status_code == 200

    assert fresh(ticket).due_is_manual and fresh(ticket).due_at == earlier


def test_undo_takes_a_chosen_plan_back_to_the_one_the_department_gives(desk, office, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")

    token = undo_token(set_plan(john, ticket, office.standard.pk).content.decode())
    response = undo(john, ticket, token)

    assert response.status_code == 200
    assert "The help topic or department chooses the SLA plan again." in response.content.decode()
    after = fresh(ticket)
    assert (after.sla_plan_id, after.sla_plan_fixed) == (on_call.pk, False)


def test_undo_puts_back_the_plan_the_agent_had_chosen(desk, office, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    set_plan(john, ticket, office.standard.pk)

    token = undo_token(set_plan(john, ticket, "").content.decode())
    assert undo(john, ticket, token).status_code == 200

    assert (fresh(ticket).sla_plan_id, fresh(ticket).sla_plan_fixed) == (office.standard.pk, True)


def test_an_sla_undo_after_someone_else_changed_the_ticket_is_a_409(desk, on_call, at, john):
    ticket = open_at(desk, at, "2026-03-02 10:00")
    token = undo_token(set_due(john, ticket, "2026-03-03T09:00").content.decode())
    services.set_priority(desk.john.user, ticket, priority=desk.sev_a)  # from another tab, meanwhile

    response = undo(john, ticket, token)

    assert response.status_code == 409
    assert fresh(ticket).due_is_manual


def test_an_sla_undo_is_refused_to_another_agent_and_once_expired(desk, on_call, at, john, monkeypatch):
    import time

    from django.core import signing
    from django.test import Client

    from tessera.accounts.models import Agent, Membership, Role
    from tessera.staff.properties_views import UNDO_SECONDS

    ticket = open_at(desk, at, "2026-03-02 10:00")
    token = undo_token(set_due(john, ticket, "2026-03-03T09:00").content.decode())
    sam = User.objects.create_user("sam@example.com", desk.password, name="Sam Smith")
    Membership.objects.create(
        agent=Agent.objects.create(user=sam), department=desk.support, role=Role.objects.get(name="Agent")
    )
    colleague = Client()
    colleague.force_login(sam)
    assert undo(colleague, ticket, token).status_code == 403

    later = time.time() + UNDO_SECONDS + 1
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = undo(john, ticket, token)
    assert response.status_code == 400
    assert "Too late to undo" in response.content.decode()
    assert fresh(ticket).due_is_manual


def test_a_forged_sla_undo_value_is_refused(desk, on_call, at, john):
    from django.core import signing

    from tessera.staff.properties_views import UNDO_SALT

    ticket = open_at(desk, at, "2026-03-02 10:00")
    set_due(john, ticket, "2026-03-03T09:00")
    current = fresh(ticket)
    for value in (12, "not a date"):
        token = signing.TimestampSigner(salt=UNDO_SALT).sign_object(
            {"t": current.pk, "p": "sla_due", "v": value, "n": current.version, "a": desk.john.user.pk}
        )
        assert undo(john, ticket, token).status_code == 400
    assert fresh(ticket).due_at == current.due_at
