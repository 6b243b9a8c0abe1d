"""The ticket page says why controls are missing instead of letting them vanish without a word."""

from __future__ import annotations

import re

from django.urls import reverse

from tessera.tickets import services

from .conftest import ticket_url

HTMX = {"HX-Request": "true"}


def props_url(ticket) -> str:
    return reverse("staff:ticket_properties", args=[ticket.number])


def notice(html: str) -> str | None:
    match = re.search(r'<p class="controls-notice" id="controls-notice" role="note">(.*?)</p>', html, re.S)
    return match.group(1) if match else None


def test_john_is_told_why_his_controls_changed_after_sending_the_ticket_on(as_agent, desk, ken_ticket):
    client = as_agent(desk.john)
    data = {"props-department": desk.sysadmin.pk, "props-assignee": desk.jane.pk, "props-version": ken_ticket.version}
    client.post(props_url(ken_ticket), data)

    html = client.get(ticket_url(ken_ticket)).content.decode()

    assert notice(html) == (
        "You follow this ticket; System Administration handles it now. You can reply and add notes."
    )
    assert 'id="id_props-department"' not in html and 'id="id_props-assignee"' not in html
    assert '<span class="prop-value" id="prop-department">System Administration</span>' in html
    assert ">Send reply</button>" in html and ">Add note</button>" in html


def test_the_panel_says_why_at_once_when_a_change_takes_the_controls_away(as_agent, desk, ken_ticket):
    services.assign(desk.john.user, ken_ticket, agent=desk.jane)
    ken_ticket.refresh_from_db()
    url = reverse("staff:ticket_property", args=[ken_ticket.number, "department"])
    data = {"props-department": desk.sysadmin.pk, "props-version": ken_ticket.version}

    html = as_agent(desk.john).post(url, data, headers=HTMX).content.decode()

    region = re.search(r'<div id="controls-notice-region" hx-swap-oob="true">(.*?)</div>', html, re.S).group(1)
    assert notice(region) == (
        "You follow this ticket; System Administration handles it now. You can reply and add notes."
    )


def test_an_observer_reads_why_she_can_only_add_notes(as_agent, desk, ken_ticket):
    html = as_agent(desk.olga).get(ticket_url(ken_ticket)).content.decode()

    assert notice(html) == "Your role in Support is Observer. You can add notes."


def test_a_closed_ticket_tells_the_agent_how_to_reopen_it(as_agent, desk, ken_ticket):
    services.set_status(desk.john.user, ken_ticket, status=desk.closed)

    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()

    assert notice(html).startswith("This ticket is closed: reopen it (change its status) to reply or change it.")


def test_an_agent_with_every_control_gets_no_notice(as_agent, desk, ken_ticket):
    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()

    assert notice(html) is None
    assert 'id="controls-notice"' not in html
