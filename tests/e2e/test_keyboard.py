"""Keyboard shortcuts in Chromium: "?" lists them in a dialog that Esc closes, "/" goes to the
search box, and on a ticket "r", "n" and "a" go to the reply, the note and the assignee —
but never while the agent is typing. (Every other ticket key: tests/e2e/test_ticket_page_layout.py.)"""

import pytest
from playwright.sync_api import Browser, expect

from tessera.tickets import services

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e


def test_shortcuts_list_and_keys_on_the_ticket_page(transactional_db, desk, site, browser: Browser):
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="It jams on page two.", topic=desk.general
    )
    base = site.url
    page = browser.new_context().new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in_to_workspace(page, base, "john@example.com", desk.password)
    page.goto(f"{base}/staff/tickets/{ticket.number}/")
    expect(page.get_by_role("heading", name="Printer jams")).to_be_visible()

    # "?" opens the list as a labelled dialog; Esc closes it, and so does its Close button.
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    for what in ("Write a reply", "Write an internal note", "Assign to an agent", "Go to the search box"):
        expect(dialog.get_by_text(what)).to_be_visible()
    expect(dialog.get_by_text("Move down to the next ticket")).to_be_visible()  # j, in queues
    page.keyboard.press("r")  # while the dialog is open, keys stay in it
    expect(page.get_by_label("Reply", exact=True)).not_to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # r, n, a go to the reply, the internal note and the agent to assign to.
    reply = page.get_by_label("Reply", exact=True)
    page.keyboard.press("r")
    expect(reply).to_be_focused()
    # Typing in a field types; it fires no shortcut.
    page.keyboard.type("n/?a")
    expect(reply).to_have_value("n/?a")
    expect(reply).to_be_focused()
    expect(dialog).to_be_hidden()
    reply.blur()

    page.keyboard.press("n")
    expect(page.get_by_label("Internal note", exact=True)).to_be_focused()
    expect(page.get_by_label("Internal note", exact=True)).to_have_value("")  # the key was not typed in
    page.get_by_label("Internal note", exact=True).blur()
    page.keyboard.press("a")
    expect(page.get_by_label("Assignee", exact=True)).to_be_focused()
    page.get_by_label("Assignee", exact=True).blur()

    # A key with Ctrl/Alt held is the browser's, not ours.
    page.keyboard.press("Alt+r")
    expect(reply).not_to_be_focused()

    # "/" goes to the search box: on a queue it is right there; the ticket page has none, so
    # "/" opens the search page with its box ready to type in.
    page.keyboard.press("/")
    expect(page).to_have_url(f"{base}/staff/search/")
    expect(page.locator("#staff-search").first).to_be_focused()
    page.goto(f"{base}/staff/queues/open/")
    search = page.locator("#staff-search, #jump-q").first
    expect(search).not_to_be_focused()
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("")  # the "/" itself was not typed in

    assert problems == []
