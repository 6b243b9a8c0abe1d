"""In Chromium: changing the department in the properties panel transfers the ticket, and the
assignee list then offers the new department's members only (it restricts assignment), under
the page's CSP. The agent who sent it on is told why the controls are gone."""

import re

import pytest
from playwright.sync_api import Browser, expect

from tessera.accounts.models import Agent
from tessera.tickets.models import Ticket

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e


def test_choosing_a_restricted_department_leaves_only_its_members(
    transactional_db, desk, site, browser: Browser, ken_ticket
):
    desk.sysadmin.assign_members_only = True
    desk.sysadmin.save()
    Agent.objects.create(user=desk.admin)  # keeps the right to assign wherever the ticket goes
    ada = browser.new_context().new_page()
    errors: list[str] = []
    ada.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in_to_workspace(ada, site.url, "admin@example.com", desk.password)
    ada.goto(f"{site.url}/staff/tickets/{ken_ticket.number}/")
    agent = ada.get_by_label("Assignee", exact=True)
    expect(agent.locator("option")).to_have_count(6)  # unassigned, the four agents and Ada

    ada.get_by_label("Department", exact=True).select_option(label="System Administration")

    expect(ada.locator("#properties-status")).to_contain_text("Ticket transferred to System Administration.")
    expect(agent.locator("option")).to_have_count(2)
    expect(agent.locator("option").nth(1)).to_have_text("Jane Doe")
    agent.select_option(label="Jane Doe")
    expect(ada.locator("#properties-status")).to_contain_text("Ticket assigned to Jane Doe.")
    assert Ticket.objects.get(pk=ken_ticket.pk).assignee.user.email == "jane@example.com"
    assert errors == []


def test_john_sending_it_on_is_told_why_his_controls_went(transactional_db, desk, site, browser: Browser, ken_ticket):
    john = browser.new_context().new_page()
    sign_in_to_workspace(john, site.url, "john@example.com", desk.password)
    john.goto(f"{site.url}/staff/tickets/{ken_ticket.number}/")
    john.get_by_label("Department", exact=True).select_option(label="System Administration")
    expect(
        john.get_by_text(re.compile(r"You follow this ticket; System Administration handles it now"))
    ).to_be_visible()
    expect(john.get_by_label("Department", exact=True)).to_have_count(0)
    expect(john.locator("#prop-department")).to_have_text("System Administration")
