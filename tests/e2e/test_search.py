"""Search in Chromium: John finds a ticket by a word from its message, sees the word marked and
opens the ticket; a ticket number typed into the same box goes straight to the ticket."""

import re

import pytest
from playwright.sync_api import Browser, expect

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e


def test_john_finds_a_ticket_by_a_word_and_by_its_number(transactional_db, desk, site, browser: Browser):
    from tessera.tickets import services

    wanted = services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject="Cannot print anything",
        message="Every print job from floor 3 fails with a spooler error.",
        topic=desk.general,
    )
    services.open_ticket(
        desk.ken, requester=desk.ken, subject="Coffee machine", message="It leaks.", topic=desk.general
    )
    services.open_ticket(
        desk.ken, requester=desk.ken, subject="Spooler on the print server", message="Down.", topic=desk.outage
    )  # System Administration: not John's to see

    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    sign_in_to_workspace(page, site.url, "john@example.com", desk.password)

    page.get_by_label("Search tickets").fill("spooler")
    page.get_by_role("button", name="Search", exact=True).click()

    expect(page).to_have_url(re.compile(r"/staff/search/\?q=spooler"))
    rows = page.locator(".search-results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.locator("mark")).to_have_text(["spooler"])
    expect(rows).to_contain_text("Every print job from floor 3 fails with a spooler error.")
    expect(page.get_by_label("Search tickets")).to_have_value("spooler")

    rows.get_by_role("link", name="Cannot print anything").click()
    expect(page.get_by_role("heading", name="Cannot print anything")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/staff/tickets/{wanted.number}/$"))

    page.goto(site.url + "/staff/")
    page.get_by_label("Search tickets").fill(f"#{wanted.number}")
    page.get_by_label("Search tickets").press("Enter")
    expect(page).to_have_url(re.compile(rf"/staff/tickets/{wanted.number}/$"))
    expect(page.get_by_role("heading", name="Cannot print anything")).to_be_visible()
    assert problems == []
