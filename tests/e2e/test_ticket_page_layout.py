"""The rebuilt ticket page in Chromium: every daily control in view at 1366×900 without
scrolling, a shortcut for each of them, and a property saved where it stands with Undo."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tessera.tickets import services
from tessera.tickets.models import Event, EventKind, Ticket

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e

VIEWPORT: ViewportSize = {"width": 1366, "height": 900}


def open_ticket(desk):
    return services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="It jams on page two.", topic=desk.general
    )


def johns_page(browser: Browser, site, desk, ticket) -> tuple[Page, list[str]]:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in_to_workspace(page, site.url, "john@example.com", desk.password)
    page.goto(f"{site.url}/staff/tickets/{ticket.number}/")
    expect(page.get_by_role("heading", name="Printer jams")).to_be_visible()
    return page, problems


def fully_in_view(page: Page, locator) -> bool:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not drawn"
    size = page.viewport_size or VIEWPORT
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and (box["y"] + box["height"] <= size["height"])
    )


def test_every_daily_control_is_in_view_at_1366_by_900_without_scrolling(
    transactional_db, desk, site, browser: Browser
):
    ticket = open_ticket(desk)
    page, problems = johns_page(browser, site, desk, ticket)
    controls = {
        "reply box": page.get_by_label("Reply", exact=True),
        "note tab": page.get_by_role("tab", name="Internal note"),
        "status": page.get_by_label("Status", exact=True),
        "priority": page.get_by_label("Priority", exact=True),
        "assignee": page.get_by_label("Assignee", exact=True),
        "team": page.get_by_label("Team", exact=True),
        "department": page.get_by_label("Department", exact=True),
        "help topic": page.get_by_label("Help topic", exact=True),
    }
    assert page.evaluate("window.scrollY") == 0
    out_of_view = [name for name, control in controls.items() if not fully_in_view(page, control)]
    shot = os.environ.get("TESSERA_PANEL_SCREENSHOT")
    if shot:
        page.screenshot(path=shot)
    assert out_of_view == []
    assert problems == []


def test_a_shortcut_reaches_every_control_of_the_panel_and_composer(transactional_db, desk, site, browser: Browser):
    ticket = open_ticket(desk)
    page, problems = johns_page(browser, site, desk, ticket)
    keys = {
        "s": page.get_by_label("Status", exact=True),
        "p": page.get_by_label("Priority", exact=True),
        "a": page.get_by_label("Assignee", exact=True),
        "t": page.get_by_label("Team", exact=True),
        "d": page.get_by_label("Department", exact=True),
        "h": page.get_by_label("Help topic", exact=True),
    }
    for key, control in keys.items():
        page.keyboard.press(key)
        expect(control).to_be_focused()
        control.blur()

    page.keyboard.press("n")
    note = page.get_by_label("Internal note", exact=True)
    expect(note).to_be_focused()
    expect(page.get_by_role("tab", name="Internal note")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Reply", exact=True)).to_be_hidden()
    page.keyboard.type("r")  # typing in the note types: no shortcut fires
    expect(note).to_have_value("r")
    expect(note).to_be_focused()
    note.fill("")
    note.blur()
    page.keyboard.press("r")
    expect(page.get_by_label("Reply", exact=True)).to_be_focused()
    expect(page.get_by_role("tab", name="Reply")).to_have_attribute("aria-selected", "true")
    page.get_by_label("Reply", exact=True).blur()

    collaborators = page.locator("#tool-collaborators")
    expect(collaborators).not_to_have_attribute("open", "")
    page.keyboard.press("c")
    expect(collaborators).to_have_attribute("open", "")
    expect(page.get_by_label("Collaborator email")).to_be_focused()
    page.get_by_label("Collaborator email").blur()
    page.keyboard.press("l")
    expect(page.locator("#tool-links")).to_have_attribute("open", "")
    expect(page.get_by_label("Related ticket number")).to_be_focused()
    page.get_by_label("Related ticket number").blur()

    # The tabs follow the keyboard like any tab list: arrows move between them.
    page.get_by_role("tab", name="Reply").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Internal note")).to_be_focused()
    expect(page.get_by_label("Internal note", exact=True)).to_be_visible()

    # The "?" list names every one of them.
    page.locator("body").focus()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    for what in ("Change the status", "Change the priority", "Assign to an agent", "Assign to a team",
                 "Transfer to another department", "Change the help topic", "Show the collaborators",
                 "Show related tickets, links and merging", "Write a reply", "Write an internal note"):  # fmt: skip
        expect(dialog.get_by_text(what)).to_be_visible()
    assert problems == []


def test_priority_saves_on_change_and_undo_puts_it_back(transactional_db, desk, site, browser: Browser):
    ticket = open_ticket(desk)
    page, problems = johns_page(browser, site, desk, ticket)

    page.get_by_label("Priority", exact=True).select_option(label="Sev-A (Emergency)")
    status = page.locator("#properties-status")
    expect(status).to_contain_text("Priority changed to Sev-A (Emergency).")
    expect(page.locator("#ticket-badges")).to_contain_text("Sev-A (Emergency)")
    expect(page.locator("#timeline")).to_contain_text("John Doe changed priority from Sev-C (Normal) to Sev-A")
    assert Ticket.objects.get(pk=ticket.pk).priority == desk.sev_a

    status.get_by_role("button", name="Undo").click()
    expect(status).to_contain_text("Priority changed to Sev-C (Normal).")
    expect(page.get_by_label("Priority", exact=True)).to_have_value(str(desk.sev_c.pk))
    expect(page.locator("#ticket-badges")).to_contain_text("Sev-C (Normal)")
    assert Ticket.objects.get(pk=ticket.pk).priority == desk.sev_c
    assert Event.objects.filter(ticket=ticket, kind=EventKind.PRIORITY).count() == 2

    # The reply sent next carries the ticket's new version: it is not refused as stale.
    page.get_by_label("Reply", exact=True).fill("Raised, then lowered again.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    assert problems == []
