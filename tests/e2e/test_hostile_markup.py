"""Markup typed into any field is shown as harmless text or safe formatting, never run:
in the portal, the agent workspace and the admin."""

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e

SCRIPT = "<script>window.__pwned = 'script'</script>"
IMG = "<img src=x onerror=\"window.__pwned = 'onerror'\">"
LINK = "<a href=\"javascript:window.__pwned='link'\">click me</a>"
SVG = "<svg onload=\"window.__pwned='svg'\"></svg>"


def assert_nothing_ran(page: Page, dialogs: list) -> None:
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert page.locator("[onerror], [onload]").count() == 0
    assert page.locator("script", has_text="__pwned").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0


def watched(page: Page) -> list:
    dialogs: list = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return dialogs


def test_hostile_markup_never_runs_anywhere(transactional_db, desk, site, browser: Browser):
    base = site.url
    ken = browser.new_page()
    ken_dialogs = watched(ken)
    ken.goto(base + "/")
    ken.get_by_label("Your name").fill("Mallory " + IMG)
    ken.get_by_label("Email address").fill("mallory@example.com")
    ken.get_by_label("Help topic").select_option(label="General question")
    ken.get_by_label("Subject").fill("Help " + SCRIPT + IMG)
    ken.get_by_label("Message").fill(f"Hello {SCRIPT} {IMG} {LINK} {SVG} **still bold**")
    ken.get_by_role("button", name="Open ticket").click()
    expect(ken.get_by_text("with your ticket number and a link")).to_be_visible()  # the number comes by email
    assert_nothing_ran(ken, ken_dialogs)

    from tessera.tickets.access_links import access_url
    from tessera.tickets.models import Ticket

    ticket = Ticket.objects.get(number=100001)
    assert "<script" not in ticket.subject and "onerror" not in ticket.subject
    ken.goto(access_url(ticket, ticket.user))
    expect(ken.locator(".entry strong", has_text="still bold")).to_be_visible()
    assert_nothing_ran(ken, ken_dialogs)

    john = browser.new_context().new_page()
    john_dialogs = watched(john)
    sign_in_to_workspace(john, base, "john@example.com", desk.password)
    john.goto(base + "/staff/queues/unassigned/")
    expect(john.get_by_role("link", name="Help", exact=True)).to_be_visible()
    assert_nothing_ran(john, john_dialogs)
    john.goto(base + "/staff/tickets/100001/")
    john.get_by_role("tab", name="Internal note").click()
    john.get_by_label("Internal note", exact=True).fill("Note " + SCRIPT + IMG)
    john.get_by_role("button", name="Add note").click()
    expect(john.get_by_text("Note added")).to_be_visible()
    assert_nothing_ran(john, john_dialogs)

    admin = browser.new_context().new_page()
    admin_dialogs = watched(admin)
    admin.goto(base + "/admin/login/")
    admin.get_by_label("Email address").fill("admin@example.com")
    admin.get_by_label("Password").fill(desk.password)
    admin.get_by_role("button", name="Log in").click()
    admin.goto(base + "/admin/accounts/user/?q=mallory")
    expect(admin.get_by_text("mallory@example.com")).to_be_visible()
    assert_nothing_ran(admin, admin_dialogs)
    admin.goto(base + f"/admin/accounts/user/{ticket.user_id}/change/")
    assert_nothing_ran(admin, admin_dialogs)
