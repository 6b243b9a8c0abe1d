"""Bulk assign in Chromium: John ticks three tickets and hands them to Jane. One of them he only
follows (he escalated it to System Administration himself), so he may not assign it: the page
says so in one summary, and the other two show Jane as their assignee."""

import re

import pytest
from playwright.sync_api import Browser, expect

from tessera.tickets import services
from tessera.tickets.models import Ticket

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e


def test_john_bulk_assigns_three_tickets_to_jane_and_one_is_refused(transactional_db, desk, site, browser: Browser):
    def ken_opens(subject: str) -> Ticket:
        return services.open_ticket(desk.ken, requester=desk.ken, subject=subject, message="Help.", topic=desk.general)

    printer, scanner, vpn = ken_opens("Printer jams"), ken_opens("Scanner offline"), ken_opens("VPN drops hourly")
    services.transfer(desk.john.user, vpn, department=desk.sysadmin)  # John escalated it; he keeps following it

    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in_to_workspace(page, site.url, "john@example.com", desk.password)
    page.get_by_role("link", name=re.compile(r"All I can see")).click()
    expect(page.get_by_role("heading", name="All I can see")).to_be_visible()

    for ticket in (printer, vpn, scanner):
        page.get_by_label(f"Select ticket #{ticket.number}").check()
    expect(page.locator("#bulk-count")).to_have_text("3 selected")
    page.get_by_label("Bulk action").select_option(label="Assign to agent")
    expect(page.get_by_label("New priority")).to_be_hidden()  # only the select the action uses is shown
    page.get_by_label("Agent to assign").select_option(label="Jane Doe")
    page.get_by_role("button", name="Apply to selected").click()

    expect(
        page.get_by_text(f"Updated 2 tickets. 1 refused: #{vpn.number} — You cannot assign this ticket.")
    ).to_be_visible()
    for ticket in (printer, scanner):
        row = page.locator("tr", has=page.get_by_label(f"Select ticket #{ticket.number}"))
        expect(row.locator(".col-assignee")).to_have_text("Jane Doe")
    refused = page.locator("tr", has=page.get_by_label(f"Select ticket #{vpn.number}"))
    expect(refused.locator(".col-assignee")).to_have_text("Unassigned")
    assert problems == []
