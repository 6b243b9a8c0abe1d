"""The story Tessera exists for, performed in Chromium: Ken asks, John escalates, Jane fixes,
John closes, and Ken is told at every step and never sees the internal note."""

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import body_text

from .conftest import link_in, sign_in_to_workspace

pytestmark = pytest.mark.e2e

NOTE = "Printer server queue is wedged; needs a sysadmin to restart the spooler."
FIX = "I restarted the print spooler and cleared the stuck jobs. Please try again."


def test_ken_asks_john_escalates_jane_resolves_john_closes(transactional_db, desk, site, smtp, browser: Browser):
    base = site.url

    # 1. Ken opens a ticket on the portal, as a guest.
    ken = browser.new_page()
    ken.goto(base + "/")
    ken.get_by_label("Your name").fill("Ken Adams")
    ken.get_by_label("Email address").fill("ken@example.com")
    ken.get_by_label("Help topic").select_option(label="General question")
    ken.get_by_label("Subject").fill("Cannot print anything")
    ken.get_by_label("Message").fill("Every print job from floor 3 fails since this morning.")
    ken.get_by_role("button", name="Open ticket").click()
    expect(ken.get_by_text("with your ticket number and a link")).to_be_visible()  # the number comes by email
    welcome = smtp.wait_for(lambda m: "ken@example.com" in m["To"] and "We received your request" in m["Subject"])[0]
    assert "[#100001]" in welcome["Subject"]
    access_link = link_in(body_text(welcome), base)
    smtp.wait_for(lambda m: "john@example.com" in m["To"] and "New ticket in Support" in m["Subject"])

    # 2. John finds it on his dashboard, sets Sev-A, writes a note and escalates it to Jane.
    john = browser.new_context().new_page()
    sign_in_to_workspace(john, base, "john@example.com", desk.password)
    john.get_by_role("link", name=re.compile(r"Unassigned")).click()
    john.get_by_role("link", name="Cannot print anything").click()
    expect(john.get_by_role("heading", name="Cannot print anything")).to_be_visible()
    # The properties panel saves each select where it stands.
    confirmation = john.locator("#properties-status")
    john.get_by_label("Priority", exact=True).select_option(label="Sev-A (Emergency)")
    expect(confirmation).to_contain_text("Priority changed to Sev-A (Emergency).")
    expect(john.locator("#ticket-badges").get_by_text("Sev-A (Emergency)")).to_be_visible()
    john.get_by_role("tab", name="Internal note").click()
    john.get_by_label("Internal note", exact=True).fill(NOTE)
    john.get_by_role("button", name="Add note").click()
    expect(john.get_by_text(NOTE)).to_be_visible()
    # Escalating: Jane takes it, then it moves to her department with John's reason.
    john.get_by_label("Assignee", exact=True).select_option(label="Jane Doe")
    expect(confirmation).to_contain_text("Ticket assigned to Jane Doe.")
    smtp.wait_for(lambda m: "jane@example.com" in m["To"] and "Assigned to you" in m["Subject"])
    john.get_by_label("Reason", exact=True).fill("Jane, over to you: the spooler needs a restart.")
    john.get_by_label("Department", exact=True).select_option(label="System Administration")
    expect(confirmation).to_contain_text("Ticket transferred to System Administration.")
    expect(
        john.get_by_text(re.compile(r"You follow this ticket; System Administration handles it now"))
    ).to_be_visible()
    expect(john.get_by_text("Jane, over to you: the spooler needs a restart.")).to_be_visible()

    # 3. Jane sees it under My tickets, reads John's note, answers Ken and resolves it.
    jane = browser.new_context().new_page()
    sign_in_to_workspace(jane, base, "jane@example.com", desk.password)
    jane.get_by_role("link", name=re.compile(r"My tickets")).click()
    jane.get_by_role("link", name="Cannot print anything").click()
    expect(jane.get_by_text(NOTE)).to_be_visible()
    expect(jane.get_by_text("Sev-A (Emergency)").first).to_be_visible()
    jane.get_by_label("Reply", exact=True).fill(FIX)
    jane.get_by_label("Status after sending").select_option(label="Resolved")
    jane.get_by_role("button", name="Send reply").click()
    expect(jane.get_by_text(FIX)).to_be_visible()
    expect(jane.locator(".ticket-head").get_by_text("Resolved")).to_be_visible()
    answer = smtp.wait_for(lambda m: "ken@example.com" in m["To"] and m["Subject"].startswith("[#100001] Re:"))[0]
    assert FIX in body_text(answer)
    assert NOTE not in body_text(answer)
    assert "This ticket is now resolved." in body_text(answer)  # one mail: no separate Resolved notice
    smtp.wait_for(lambda m: "john@example.com" in m["To"] and "Update" in m["Subject"])
    assert not [m for m in smtp.to("ken@example.com") if "Resolved" in m["Subject"]]

    # 4. John finds the ticket he escalated under Following, sees Jane's reply and closes it.
    john.goto(base + "/staff/")
    john.get_by_role("link", name=re.compile(r"Following")).click()
    john.get_by_role("link", name="Cannot print anything").click()
    expect(john.get_by_text(FIX)).to_be_visible()
    john.get_by_label("Status", exact=True).select_option(label="Closed")
    expect(john.locator("#properties-status")).to_contain_text("Status changed to Closed.")
    expect(john.locator("#ticket-badges").get_by_text("Closed")).to_be_visible()
    smtp.wait_for(lambda m: "ken@example.com" in m["To"] and "Closed" in m["Subject"])

    # 5. Ken's access link shows every public reply and the Closed status, never the note.
    ken.goto(access_link)
    expect(ken.get_by_role("heading", name="Cannot print anything")).to_be_visible()
    expect(ken.get_by_text(FIX)).to_be_visible()
    expect(ken.get_by_text("Every print job from floor 3 fails since this morning.")).to_be_visible()
    expect(ken.locator(".ticket-head").get_by_text("Closed")).to_be_visible()
    assert NOTE not in ken.content()
    assert "spooler needs a restart" not in ken.content()

    # Every message Ken received is about his ticket and none leaks the internal notes.
    for message in smtp.to("ken@example.com"):
        assert "[#100001]" in message["Subject"]
        assert NOTE not in body_text(message)
