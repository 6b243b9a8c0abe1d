"""The ticket page says why controls are missing instead of letting them vanish without a word."""

from __future__ import annotations

import re

from tessera.tickets import services

from .conftest import ticket_url


def notice(html: str) -> str | None:
    match = re.search(r'<p class="controls-notice" id="controls-notice" role="note">(.*?)</p>', html, re.S)
    return match.group(1) if match else None


def test_john_is_told_why_his_controls_changed_after_sending_the_ticket_on(as_agent, act, desk, ken_ticket):
    as_agent(desk.john)
    act(ken_ticket, "transfer", department=desk.sysadmin.pk, agent=desk.jane.pk)

    html = as_agent(desk.john).get(ticket_url(ken_ticket)).content.decode()

    assert notice(html) == (
        "You follow this ticket; System Administration handles it now. You can reply and add notes."
    )
    assert ">Transfer</button>" not in html and ">Assign</button>" not in html
    assert ">Send reply</button>" in html and ">Add note</button>" in html


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
    assert "controls-notice" not in html
