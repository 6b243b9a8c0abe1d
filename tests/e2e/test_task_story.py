"""Tasks in Chromium: John asks Jane for a piece of work on Ken's ticket, Jane finds it in
"My tasks", notes what she did with the keyboard alone and closes it; John then closes the
ticket, confirming that its last open task closes with it. Every task page passes axe."""

import re

import pytest
from playwright.sync_api import Browser, expect

from tessera.tasks.models import Task, TaskState
from tessera.tickets.models import State, Ticket

from .conftest import sign_in_to_workspace
from .test_accessibility import violations

pytestmark = pytest.mark.e2e


def test_john_asks_jane_for_a_task_she_closes_then_john_closes_the_ticket(
    transactional_db, desk, site, ken_ticket, browser: Browser
):
    base = site.url
    found: dict[str, list[str]] = {}

    # 1. From the ticket page John adds a task for Jane.
    john = browser.new_context().new_page()
    sign_in_to_workspace(john, base, "john@example.com", desk.password)
    john.goto(f"{base}/staff/tickets/{ken_ticket.number}/")
    john.get_by_role("link", name="Add a task").click()
    expect(john.get_by_role("heading", name=re.compile("New task on ticket"))).to_be_visible()
    john.get_by_label("Title").fill("   ")  # blank: the server says so, and keeps the rest
    john.get_by_label("Description").fill("Is it at *full duplex*?")
    john.get_by_role("button", name="Create task").click()
    expect(john.get_by_text("Give the task a title.")).to_be_visible()
    found["new task (errors)"] = violations(john)
    expect(john.get_by_label("Description")).to_have_value("Is it at *full duplex*?")
    john.get_by_label("Title").fill("Check the network port on floor 3")
    john.get_by_label("Assign to").select_option(label="Jane Doe")
    john.get_by_role("button", name="Create task").click()
    expect(john.get_by_role("heading", name="Check the network port on floor 3")).to_be_visible()
    expect(john.locator("#task-assignee")).to_have_text("Jane Doe")
    found["task page"] = violations(john)
    task = Task.objects.get()

    # 2. Jane finds it in My tasks, notes what she did without the mouse, and closes it.
    jane = browser.new_context().new_page()
    sign_in_to_workspace(jane, base, "jane@example.com", desk.password)
    jane.get_by_role("link", name="My tasks").click()
    expect(jane.get_by_role("heading", name="My tasks")).to_be_visible()
    found["my tasks"] = violations(jane)
    jane.get_by_role("link", name="Check the network port on floor 3").click()
    # Shortcuts listen once the task page has loaded; a key pressed before lands nowhere.
    jane.wait_for_url(re.compile(rf"/staff/tasks/{task.number}/$"), wait_until="load")
    jane.keyboard.press("?")
    expect(
        jane.get_by_role("dialog", name="Keyboard shortcuts").get_by_text("Write a note", exact=True)
    ).to_be_visible()
    jane.keyboard.press("Escape")
    jane.keyboard.press("n")
    expect(jane.get_by_label("Note", exact=True)).to_be_focused()
    jane.keyboard.type("Port 14 was at half duplex; fixed.")
    jane.keyboard.press("Tab")
    expect(jane.get_by_role("button", name="Add note")).to_be_focused()
    jane.keyboard.press("Enter")
    expect(jane.get_by_text("Note added.")).to_be_visible()
    expect(jane.get_by_text("Port 14 was at half duplex; fixed.")).to_be_visible()
    jane.get_by_role("button", name="Close task").click()
    expect(jane.get_by_text(f"Task #{task.number} closed.")).to_be_visible()
    assert Task.objects.get(pk=task.pk).state == TaskState.CLOSED
    jane.goto(base + "/staff/tasks/")
    found["task queue"] = violations(jane)

    # 3. John adds one more task, then closes the ticket: refused until he confirms.
    john.goto(f"{base}/staff/tickets/{ken_ticket.number}/")
    expect(john.get_by_text(f"Jane Doe closed task #{task.number}")).to_be_visible()
    john.goto(f"{base}/staff/tasks/new/?ticket={ken_ticket.number}")
    john.get_by_label("Title").fill("Tell Ken the port is fixed")
    john.get_by_role("button", name="Create task").click()
    john.goto(f"{base}/staff/tickets/{ken_ticket.number}/")
    john.get_by_label("Status", exact=True).select_option(label="Closed")
    expect(john.get_by_text(re.compile(r"has an open task"))).to_be_visible()
    found["ticket page (close refused)"] = violations(john)
    john.get_by_role("button", name="Close the ticket and its open task").click()
    expect(john.locator("#properties-status")).to_contain_text("Status changed to Closed.")
    assert Ticket.objects.get(pk=ken_ticket.pk).state == State.CLOSED
    assert set(Task.objects.values_list("state", flat=True)) == {TaskState.CLOSED}

    assert {page: problems for page, problems in found.items() if problems} == {}
