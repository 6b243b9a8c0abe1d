"""Resolved tickets close by themselves after their department's quiet period, unless the
customer answers (which reopens them); the resolution mail says when."""

from __future__ import annotations

from tessera.automation import autoclose
from tessera.tickets import services
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import EventKind, State
from tests.tickets.helpers import events, fresh


def test_a_resolved_ticket_closes_after_the_quiet_period_not_before(desk, at, open_in):
    at("2026-03-02 10:00")
    ticket = open_in()
    services.set_status(desk.john.user, ticket, status=desk.resolved)

    at("2026-03-05 09:59")
    assert autoclose.run() == 0
    assert fresh(ticket).state == State.RESOLVED
    at("2026-03-05 10:00")
    assert autoclose.run() == 1

    closed = fresh(ticket)
    assert closed.state == State.CLOSED
    assert closed.status == desk.closed
    event = events(ticket, EventKind.STATUS)[-1]
    assert event.actor is None
    assert event_sentence(event) == "Closed automatically after 3 days without reply"
    assert autoclose.run() == 0  # already closed: nothing more


def test_a_customer_reply_reopens_the_ticket_and_it_stays_open(desk, at, open_in):
    at("2026-03-02 10:00")
    ticket = open_in()
    services.set_status(desk.john.user, ticket, status=desk.resolved)
    at("2026-03-03 10:00")
    services.reply(desk.ken, fresh(ticket), message="Still jamming, sorry.")

    at("2026-03-09 10:00")
    assert autoclose.run() == 0
    assert fresh(ticket).state == State.OPEN


def test_the_quiet_period_is_the_departments_and_blank_means_never(desk, at, open_in):
    desk.support.auto_close_days = 1
    desk.support.save()
    desk.sysadmin.auto_close_days = None
    desk.sysadmin.save()
    at("2026-03-02 10:00")
    quick = open_in()
    kept = open_in(desk.sysadmin)
    for ticket in (quick, kept):
        services.set_status(desk.john.user if ticket == quick else desk.jane.user, ticket, status=desk.resolved)

    at("2026-04-02 10:00")
    assert autoclose.run() == 1

    assert fresh(quick).state == State.CLOSED
    assert event_sentence(events(quick, EventKind.STATUS)[-1]) == "Closed automatically after 1 day without reply"
    assert fresh(kept).state == State.RESOLVED


def test_the_resolution_mail_names_the_closing_time_in_the_customers_zone(desk, at, open_in, smtp, committed):
    desk.ken.time_zone = "Asia/Tokyo"
    desk.ken.save()
    at("2026-03-02 10:00")
    ticket = open_in()
    smtp.envelopes.clear()

    committed(services.set_status, desk.john.user, ticket, status=desk.resolved)

    mail = smtp.wait_for(lambda m: "ken@example.com" in m["To"])[-1]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "If we don't hear from you, this ticket will close on Thursday 5 March 2026, 19:00 JST." in text
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "this ticket will close on Thursday 5 March 2026, 19:00 JST" in html.replace("&#x27;", "'")


def test_a_reply_that_resolves_names_the_closing_time_too(desk, at, open_in, smtp, committed):
    at("2026-03-02 10:00")
    ticket = open_in()
    smtp.envelopes.clear()

    committed(services.reply, desk.john.user, ticket, message="Cleaned the rollers.", status=desk.resolved)

    mail = smtp.wait_for(lambda m: "ken@example.com" in m["To"])[-1]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "this ticket will close on Thursday 5 March 2026, 10:00 UTC." in text


def test_no_closing_line_when_the_department_never_closes_by_itself(desk, at, open_in, smtp, committed):
    desk.support.auto_close_days = None
    desk.support.save()
    at("2026-03-02 10:00")
    ticket = open_in()
    smtp.envelopes.clear()

    committed(services.set_status, desk.john.user, ticket, status=desk.resolved)

    mail = smtp.wait_for(lambda m: "ken@example.com" in m["To"])[-1]
    assert "will close on" not in mail.get_body(preferencelist=("plain",)).get_content()


def test_a_resolved_ticket_with_an_open_task_waits_for_the_task_before_closing(desk, at, open_in):
    from tessera.tasks import services as task_services

    at("2026-03-02 10:00")
    ticket = open_in()
    task = task_services.create_task(desk.john.user, ticket=ticket, title="Return the loan laptop")
    services.set_status(desk.john.user, ticket, status=desk.resolved)

    at("2026-03-09 10:00")
    assert autoclose.run() == 0
    assert fresh(ticket).state == State.RESOLVED

    task_services.close_task(desk.john.user, task)
    assert autoclose.run() == 1
    assert fresh(ticket).state == State.CLOSED
