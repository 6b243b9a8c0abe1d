"""A guest chooses "Server outage" on the portal: the topic's questions appear under the select,
a wrong asset tag comes back with the reason and everything typed, and the answers reach the
ticket. The form and the agent's answers panel pass axe."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tessera.customfields.models import FieldValue
from tessera.tickets.models import Ticket
from tests.customfields.conftest import forms  # noqa: F401  the Hardware form on "Server outage"

from .conftest import sign_in_to_workspace
from .test_accessibility import WCAG

pytestmark = pytest.mark.e2e


def test_choosing_a_topic_reveals_its_fields_and_a_wrong_answer_keeps_what_was_typed(
    transactional_db,
    desk,
    forms,  # noqa: F811  the fixture imported above
    site,
    page: Page,
    csp_violations,
    no_intake_limit,
):
    page.goto(site.url + "/")
    expect(page.get_by_label("Asset tag")).to_have_count(0)
    page.get_by_label("Your name").fill("Greta Guest")
    page.get_by_label("Email address").fill("greta@example.org")
    page.get_by_label("Help topic").select_option(label=desk.outage.name)
    expect(page.get_by_label("Asset tag")).to_be_visible()
    page.get_by_label("Asset tag").fill("ab-12")
    page.get_by_label("Office").select_option(label="Lisbon")
    page.get_by_label("Smoke").check()
    page.get_by_label("Subject").fill("Server smoking")
    page.get_by_label("Message").fill("Rack 4 smells of smoke.")
    assert Axe().run(page, options=WCAG).response["violations"] == []
    page.get_by_role("button", name="Open ticket").click()

    expect(page.get_by_text("Two capital letters, a dash and four digits.").first).to_be_visible()
    expect(page.get_by_label("Asset tag")).to_have_value("ab-12")
    expect(page.get_by_label("Smoke")).to_be_checked()
    page.get_by_label("Asset tag").fill("AB-1234")
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url("**/opened/")
    ticket = Ticket.objects.get(subject="Server smoking")
    assert FieldValue.objects.get(ticket=ticket, field=forms.asset).text == "AB-1234"
    assert FieldValue.objects.get(ticket=ticket, field=forms.office).item == forms.lisbon

    sign_in_to_workspace(page, site.url, "jane@example.com", desk.password)
    page.goto(f"{site.url}/staff/tickets/{ticket.number}/")
    panel = page.locator("#custom-fields")
    expect(panel).to_contain_text("AB-1234")
    panel.get_by_role("link", name="Edit").first.click()
    expect(panel.get_by_role("button", name="Save")).to_be_visible()
    assert Axe().run(page, options=WCAG).response["violations"] == []
    panel.get_by_label("Phone").fill("+49 30 1234567")
    panel.get_by_role("button", name="Save").click()
    expect(panel.get_by_role("status")).to_have_text("Phone saved.")
    expect(page.locator("#timeline")).to_contain_text("Jane Doe set Phone to +49 30 1234567")
    ticket.refresh_from_db()
    # The composer now carries the new version: a note sent next is not refused as stale.
    expect(page.locator('input[name="note-version"]')).to_have_value(str(ticket.version))
    assert csp_violations == []
