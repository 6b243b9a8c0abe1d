"""Canned responses in Chromium, by keyboard alone: Mia manages them (the pages pass axe, an
unknown variable is refused by name), then John types "::" in his reply, finds one, previews it
filled in for Ken's ticket, inserts it, edits it and sends it with its file."""

import pytest
from playwright.sync_api import Browser, expect

from tessera.accounts.models import Agent, Membership, Role, User
from tessera.canned import services as canned_services
from tessera.canned.models import CannedResponse
from tessera.tickets import services
from tessera.tickets.attachments import Upload
from tessera.tickets.models import Attachment, EntryKind, ThreadEntry

from .conftest import sign_in_to_workspace
from .test_accessibility import violations

pytestmark = pytest.mark.e2e


def test_manage_then_pick_preview_insert_edit_and_send_by_keyboard(transactional_db, desk, site, browser: Browser):
    mia = Agent.objects.create(user=User.objects.create_user("mia@example.com", desk.password, name="Mia Manager"))
    Membership.objects.create(
        agent=mia, department=desk.support, role=Role.objects.get(name="Manager"), is_primary=True
    )
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="It jams on page two.", topic=desk.general
    )
    canned_services.save_response(
        desk.admin,
        None,
        title="Printer tray",
        body="Hello %{user.first_name}, please use **tray 2** for ticket %{ticket.number}.",
        departments=[desk.support],
        uploads=[Upload("tray-guide.txt", b"Open tray 2.", "text/plain")],
    )
    canned_services.save_response(desk.admin, None, title="Greeting", body="Hi %{user.name}!")
    base = site.url
    problems: list[str] = []

    # ---- Mia manages them: the pages pass axe, and a mistyped variable is refused by name.
    manager = browser.new_context().new_page()
    manager.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in_to_workspace(manager, base, "mia@example.com", desk.password)
    manager.get_by_role("link", name="Canned responses").click()
    expect(manager.get_by_role("heading", name="Canned responses")).to_be_visible()
    found = {"list": violations(manager)}
    manager.get_by_role("link", name="New canned response").focus()
    manager.keyboard.press("Enter")
    expect(manager.get_by_role("heading", name="New canned response")).to_be_visible()
    manager.get_by_label("Title").fill("Closing")
    manager.get_by_label("Text").fill("Thanks %{user.firstname}!")
    manager.get_by_role("button", name="Save canned response").focus()
    manager.keyboard.press("Enter")
    expect(manager.get_by_text("Unknown variable %{user.firstname}").first).to_be_visible()
    found["form with errors"] = violations(manager)
    assert {page: v for page, v in found.items() if v} == {}
    assert not CannedResponse.objects.filter(title="Closing").exists()

    # ---- John answers Ken with one, by keyboard alone.
    page = browser.new_context().new_page()
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in_to_workspace(page, base, "john@example.com", desk.password)
    page.goto(f"{base}/staff/tickets/{ticket.number}/")
    reply = page.get_by_label("Reply", exact=True)
    page.keyboard.press("?")
    expect(
        page.get_by_role("dialog", name="Keyboard shortcuts").get_by_text("Insert a canned response")
    ).to_be_visible()
    page.keyboard.press("Escape")

    page.keyboard.press("r")
    expect(reply).to_be_focused()
    page.keyboard.type("Dear customer,\n::")
    search = page.get_by_role("combobox", name="Find a canned response")
    expect(search).to_be_focused()
    expect(reply).to_have_value("Dear customer,\n")  # the two colons left the reply
    page.keyboard.type("tray")
    options = page.get_by_role("listbox", name="Canned responses").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("aria-selected", "true")
    preview = page.locator("#canned-preview")
    expect(preview).to_contain_text(f"Hello Ken, please use tray 2 for ticket {ticket.number}.")
    expect(preview.locator("strong")).to_have_text("tray 2")  # rendered as the reply will show it
    expect(page.locator("#canned-preview-files")).to_contain_text("tray-guide.txt")
    assert violations(page) == []  # the open picker, too

    page.keyboard.press("Enter")
    expect(reply).to_be_focused()
    expect(reply).to_have_value(f"Dear customer,\nHello Ken, please use **tray 2** for ticket {ticket.number}.")
    expect(page.get_by_role("status").filter(has_text="Inserted “Printer tray”")).to_be_visible()
    expect(page.locator("#canned-inserted")).to_contain_text("tray-guide.txt")
    page.keyboard.type(" It is the lower one.")
    # "::" meant as text: Escape puts the colons back where they were typed.
    page.keyboard.type("\n::")
    expect(search).to_be_focused()
    page.keyboard.press("Escape")
    expect(reply).to_be_focused()
    expect(reply).to_have_value(
        f"Dear customer,\nHello Ken, please use **tray 2** for ticket {ticket.number}. It is the lower one.\n::"
    )
    for _key in range(3):
        page.keyboard.press("Backspace")

    # "i" opens the picker from anywhere on the page; Escape goes back to the reply untouched.
    reply.blur()
    page.keyboard.press("i")
    expect(search).to_be_focused()
    expect(page.get_by_role("listbox", name="Canned responses").get_by_role("option")).to_have_count(2)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    expect(reply).to_be_focused()

    page.get_by_role("button", name="Send reply").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Reply sent.")).to_be_visible()

    entry = ThreadEntry.objects.filter(ticket=ticket, kind=EntryKind.RESPONSE).get()
    assert entry.body_text == (
        f"Dear customer,\nHello Ken, please use **tray 2** for ticket {ticket.number}. It is the lower one."
    )
    assert list(Attachment.objects.filter(entry=entry).values_list("name", flat=True)) == ["tray-guide.txt"]
    assert CannedResponse.objects.get(title="Printer tray").usage_count == 1
    assert CannedResponse.objects.get(title="Greeting").usage_count == 0
    assert problems == []
