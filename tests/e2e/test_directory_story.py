"""John looks a customer up in the people directory with the keyboard alone: "/" to the search
box, types part of the name and the list narrows as he types, opens Ken's page, "n" to the note
box, writes a note, then opens Ken's organisation. Every directory page passes axe."""

import pytest
from playwright.sync_api import Browser, FilePayload, expect

from tessera.accounts.models import Organization, OrganizationDomain, User
from tessera.tickets import services

from .conftest import sign_in_to_workspace
from .test_accessibility import violations

pytestmark = pytest.mark.e2e


def test_an_agent_finds_a_customer_notes_something_and_opens_their_organisation(
    transactional_db, desk, site, browser: Browser
):
    acme = Organization.objects.create(name="Acme Printing", account_manager=desk.john, share_tickets=True)
    OrganizationDomain.objects.create(organization=acme, domain="example.com")
    desk.ken.organization = acme
    desk.ken.save()
    for n in range(3):
        User.objects.create_user(f"other{n}@example.net", name=f"Other Person {n}")
    services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="It jams on page two.", topic=desk.general
    )
    base = site.url
    page = browser.new_context().new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    found: dict[str, list[str]] = {}
    sign_in_to_workspace(page, base, "john@example.com", desk.password)

    page.get_by_role("link", name="People", exact=True).first.click()
    expect(page.get_by_role("heading", name="People", exact=True)).to_be_visible()
    found["people"] = violations(page)

    # "/" goes to the directory's own box; the list narrows as he types (no Enter needed).
    page.keyboard.press("/")
    box = page.get_by_label("Find people by name, email address or organisation")
    expect(box).to_be_focused()
    page.keyboard.type("adam")
    results = page.locator("#directory-results")
    expect(results.get_by_role("link", name="Ken Adams")).to_be_visible()
    expect(results.get_by_text("Other Person 0")).to_have_count(0)
    assert "q=adam" in page.url  # the address keeps the search, for the back button

    # Tab from the box to Ken's link, Enter opens his page.
    results.get_by_role("link", name="Ken Adams").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Ken Adams")).to_be_visible()
    expect(page.get_by_role("link", name="Printer jams")).to_be_visible()
    found["person"] = violations(page)

    # "n" goes to the note box (once the page has loaded: its shortcuts listen from then on).
    page.wait_for_load_state("load")
    page.keyboard.press("n")
    note = page.get_by_label("Add a note")
    expect(note).to_be_focused()
    page.keyboard.type("Prefers a call before 10:00.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add note")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your note is added.")).to_be_visible()
    expect(page.locator(".directory-notes").get_by_text("Prefers a call before 10:00.")).to_be_visible()
    found["person with a note"] = violations(page)

    # The organisation: its members, the account manager, its tickets.
    page.get_by_role("link", name="Acme Printing").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Acme Printing")).to_be_visible()
    members = page.locator("#members")
    expect(members.get_by_role("link", name="Ken Adams")).to_be_visible()
    expect(page.get_by_text("Shared among members")).to_be_visible()
    found["organisation"] = violations(page)

    page.goto(base + "/staff/organisations/")
    found["organisations"] = violations(page)
    page.goto(base + "/staff/people/import/")
    found["import"] = violations(page)
    page.get_by_label("CSV file", exact=True).set_input_files(
        files=FilePayload(name="people.csv", mimeType="text/csv", buffer=b"email,name\nnope,X\nann@example.net,Ann\n")
    )
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_role("heading", name="Import preview")).to_be_visible()
    expect(page.get_by_text("is not a valid email address").first).to_be_visible()
    found["import preview with errors"] = violations(page)

    # "?" lists the directory's keys.
    page.goto(base + "/staff/people/")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog.get_by_text("Write a note about the person or organisation")).to_be_visible()

    assert {name: v for name, v in found.items() if v} == {}
    assert problems == []
