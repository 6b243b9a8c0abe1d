"""In Chromium: choosing a department in the transfer form narrows its agents, under the page's CSP."""

import re

import pytest
from playwright.sync_api import Browser, expect

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e


def test_choosing_a_restricted_department_leaves_only_its_members(
    transactional_db, desk, site, browser: Browser, ken_ticket
):
    desk.sysadmin.assign_members_only = True
    desk.sysadmin.save()
    john = browser.new_context().new_page()
    errors: list[str] = []
    john.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in_to_workspace(john, site.url, "john@example.com", desk.password)
    john.goto(f"{site.url}/staff/tickets/{ken_ticket.number}/")
    agent = john.get_by_label("Transfer to agent")
    expect(agent.locator("option")).to_have_count(5)  # anyone, and the four agents

    john.get_by_label("Transfer to department").select_option(label="System Administration")

    expect(agent.locator("option")).to_have_count(2)
    expect(agent.locator("option").nth(1)).to_have_text("Jane Doe (System Administration)")
    agent.select_option(label="Jane Doe (System Administration)")
    john.get_by_role("button", name="Transfer", exact=True).click()
    expect(
        john.get_by_text(re.compile(r"You follow this ticket; System Administration handles it now"))
    ).to_be_visible()
    assert errors == []
