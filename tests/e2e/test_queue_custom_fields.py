"""An agent filters a queue on a custom field with the keyboard alone, and the filter panel with
the custom fields passes axe's WCAG rules."""

import pytest
from playwright.sync_api import Browser, expect

from tessera.tickets import services
from tests.customfields import conftest as field_fixtures

from .conftest import sign_in_to_workspace
from .test_accessibility import violations

pytestmark = pytest.mark.e2e

forms = field_fixtures.forms  # the "forms" fixture: a hardware form (office, symptoms, …) on the outage topic


def _open(desk, subject, **values):
    return services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject=subject,
        message="Rack 4.",
        topic=desk.outage,
        custom_values={"asset_tag": "AB-1234", **values},
    )


def test_an_agent_filters_the_queue_on_an_office_with_the_keyboard(
    transactional_db, desk, forms, site, browser: Browser
):
    _open(desk, "Berlin fan noise", office=forms.berlin.pk)
    _open(desk, "Lisbon smoke", office=forms.lisbon.pk)
    jane = browser.new_context().new_page()
    sign_in_to_workspace(jane, site.url, "jane@example.com", desk.password)
    jane.goto(site.url + "/staff/queues/all/")
    summary = jane.get_by_text("Filters, sort and columns")
    summary.focus()
    jane.keyboard.press("Enter")  # opens the panel
    office = jane.get_by_role("listbox", name="Office")
    office.focus()
    jane.keyboard.press("Home")  # the first office, Berlin, selected by the keyboard
    assert violations(jane) == []
    jane.get_by_role("button", name="Apply filters").focus()
    jane.keyboard.press("Enter")
    expect(jane.locator("#queue-rows")).to_contain_text("Berlin fan noise")
    expect(jane.locator("#queue-rows")).not_to_contain_text("Lisbon smoke")
    expect(jane.get_by_text("Office: Berlin")).to_be_visible()
