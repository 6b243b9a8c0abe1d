"""A phone call, in Chromium, with the keyboard alone: John presses "n" in his queue, types part
of the caller's name, picks her with the arrow keys and Enter, fills in the call and lands on
the new ticket. The page passes axe, with the list of people open and with errors shown."""

import re

import pytest
from playwright.sync_api import Browser, expect

from tessera.accounts.models import Organization, User
from tessera.tickets.models import Source, Ticket

from .conftest import sign_in_to_workspace
from .test_accessibility import violations

pytestmark = pytest.mark.e2e


def test_john_opens_a_ticket_for_a_caller_with_the_keyboard(transactional_db, desk, site, browser: Browser):
    acme = Organization.objects.create(name="Acme Widgets")
    rosa = User.objects.create_user("rosa@acme.example", name="Rosa Diaz", organization=acme)
    User.objects.create_user("rosalind@example.org", name="Rosalind Franklin")
    base = site.url
    page = browser.new_context().new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in_to_workspace(page, base, "john@example.com", desk.password)
    page.goto(base + "/staff/queues/open/")

    # "?" lists the key; "n" opens the page with the requester box focused.
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts").get_by_text("Open a new ticket")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    expect(page).to_have_url(base + "/staff/tickets/new/")
    box = page.get_by_role("combobox", name="Requester")
    expect(box).to_be_focused()
    found: dict[str, list[str]] = {"form": violations(page)}

    # Submitting with nothing says what is missing, keeps the page usable and passes axe.
    page.get_by_role("button", name="Open ticket").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Give the ticket a subject.")
    found["errors"] = violations(page)

    box = page.get_by_role("combobox", name="Requester")
    box.focus()
    page.keyboard.type("ros")
    listbox = page.get_by_role("listbox", name="People found")
    expect(listbox.get_by_role("option")).to_have_count(2)
    expect(box).to_have_attribute("aria-expanded", "true")
    found["people listed"] = violations(page)
    page.keyboard.press("ArrowDown")
    expect(listbox.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", f"person-option-{rosa.pk}")
    page.keyboard.press("Enter")  # chooses; does not submit
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("Rosa Diaz <rosa@acme.example>")
    expect(page.get_by_text("Chosen: Rosa Diaz <rosa@acme.example>")).to_be_visible()

    # On through the form with Tab: the new-person fields, the source, the topic.
    page.keyboard.press("Tab")  # new person's address
    page.keyboard.press("Tab")  # new person's name
    page.keyboard.press("Tab")  # new person's phone
    page.keyboard.press("Tab")
    expect(page.get_by_label("Reached us by")).to_be_focused()
    page.keyboard.press("ArrowDown")  # Phone → Walk-in
    expect(page.get_by_label("Reached us by")).to_have_value("walk_in")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Help topic")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Help topic")).to_have_value(str(desk.general.pk))
    page.get_by_label("Subject").focus()
    page.keyboard.type("Badge does not open the door")
    page.keyboard.press("Tab")
    page.keyboard.type("Rosa came to the desk: her badge stopped working this morning.")
    page.get_by_label("Subject").focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/staff/tickets/\d+/$"))
    ticket = Ticket.objects.get()
    expect(page).to_have_url(f"{base}/staff/tickets/{ticket.number}/")
    expect(page.get_by_text(f"Ticket #{ticket.number} is open.")).to_be_visible()
    expect(page.get_by_role("heading", name="Badge does not open the door")).to_be_visible()
    assert ticket.user == rosa and ticket.source == Source.WALK_IN
    assert {name: found_ for name, found_ in found.items() if found_} == {}
    assert problems == []
