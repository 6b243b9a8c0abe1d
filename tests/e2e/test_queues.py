"""Queues in Chromium: filter and sort, save a queue, move with the keyboard, and watch new
tickets arrive without a reload."""

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tessera.accounts.models import Membership, Role
from tessera.tickets import services

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e


def open_ticket(desk, subject: str, priority=None, topic=None):
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject=subject, message="Please help.", topic=topic or desk.general
    )
    if priority is not None:
        services.set_priority(desk.john.user, ticket, priority=priority)
    return ticket


def row_subjects(page: Page) -> list[str]:
    return page.locator("#queue-rows td.subject a").all_inner_texts()


@pytest.fixture
def john(transactional_db, desk, site, page: Page, csp_violations) -> Iterator[Page]:
    # John also works in Billing, so the department filter has something to leave out.
    Membership.objects.create(agent=desk.john, department=desk.billing, role=Role.objects.get(name="Agent"))
    sign_in_to_workspace(page, site.url, "john@example.com", desk.password)
    yield page
    assert csp_violations == []


def test_filter_by_priority_and_department_then_sort_by_priority(desk, site, john: Page):
    open_ticket(desk, "Printer on fire", desk.sev_a)
    open_ticket(desk, "Toner low", desk.sev_d)
    open_ticket(desk, "VPN slow", desk.sev_b)
    open_ticket(desk, "Mouse broken")
    billing = open_ticket(desk, "Invoice wrong", desk.sev_a)
    services.transfer(desk.john.user, billing, department=desk.billing)

    john.get_by_role("link", name=re.compile("All I can see")).click()
    expect(john.get_by_role("heading", name="All I can see")).to_be_visible()
    john.get_by_text("Filters, sort and columns").click()
    priority = john.get_by_role("group", name="Priority")
    priority.get_by_label("Sev-A (Emergency)").check()
    priority.get_by_label("Sev-B (High)").check()
    john.get_by_label("Departments").select_option(label="Support")
    john.get_by_role("button", name="Apply filters").click()

    expect(john.get_by_role("link", name="Remove filter Priority: Sev-A (Emergency)")).to_be_visible()
    expect(john.get_by_role("link", name="Remove filter Department: Support")).to_be_visible()
    assert sorted(row_subjects(john)) == ["Printer on fire", "VPN slow"]

    # Sort by priority from its column header: most urgent first, then the other way round.
    header = john.get_by_role("columnheader", name="Priority")
    header.get_by_role("link").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert row_subjects(john) == ["Printer on fire", "VPN slow"]
    john.get_by_role("columnheader", name="Priority").get_by_role("link").click()
    expect(john.get_by_role("columnheader", name="Priority")).to_have_attribute("aria-sort", "descending")
    assert row_subjects(john) == ["VPN slow", "Printer on fire"]

    # Dropping one filter keeps the other and the sort; "Sort by" offers the same sorts.
    john.get_by_role("link", name="Remove filter Priority: Sev-B (High)").click()
    expect(john.locator("#queue-rows tr")).to_have_count(1)
    assert row_subjects(john) == ["Printer on fire"]
    john.get_by_role("link", name="Remove filter Priority: Sev-A (Emergency)").click()
    expect(john.locator("#queue-rows tr")).to_have_count(4)
    assert row_subjects(john) == ["Toner low", "Mouse broken", "VPN slow", "Printer on fire"]
    john.get_by_text("Filters, sort and columns").click()
    john.get_by_label("Sort by").select_option(label="Subject, A to Z")
    john.get_by_role("button", name="Apply filters").click()
    expect(john.get_by_role("columnheader", name="Subject")).to_have_attribute("aria-sort", "ascending")
    assert row_subjects(john) == ["Mouse broken", "Printer on fire", "Toner low", "VPN slow"]


def test_save_a_queue_and_find_it_in_the_sidebar_with_its_count(desk, site, john: Page):
    open_ticket(desk, "Printer on fire", desk.sev_a)
    open_ticket(desk, "Server room hot", desk.sev_a)
    open_ticket(desk, "Toner low", desk.sev_d)

    john.get_by_role("link", name=re.compile("Open in my departments")).click()
    john.get_by_text("Filters, sort and columns").click()
    john.get_by_role("group", name="Priority").get_by_label("Sev-A (Emergency)").check()
    columns = john.get_by_role("group", name="Columns")
    columns.get_by_label("Due", exact=True).check()
    columns.get_by_label("Department", exact=True).uncheck()
    john.get_by_role("button", name="Apply filters").click()
    expect(john.get_by_role("columnheader", name="Due")).to_be_visible()
    expect(john.get_by_role("columnheader", name="Department")).to_have_count(0)

    john.get_by_label("Queue name").fill("Emergencies")
    john.get_by_role("button", name="Save as queue").click()
    expect(john.get_by_role("heading", name="Emergencies", level=1)).to_be_visible()
    expect(john.get_by_text("Saved “Emergencies”. It is listed under My queues.")).to_be_visible()
    my_queues = john.get_by_role("list", name="My queues")
    expect(my_queues.get_by_role("link", name="Emergencies 2")).to_have_attribute("aria-current", "page")
    assert sorted(row_subjects(john)) == ["Printer on fire", "Server room hot"]
    expect(john.get_by_role("columnheader", name="Due")).to_be_visible()

    # It is there on every queue page, and it can be renamed.
    john.get_by_role("link", name=re.compile("My tickets")).click()
    my_queues.get_by_role("link", name="Emergencies 2").click()
    john.get_by_text("Manage this queue").click()
    john.get_by_label("New name").fill("Fires")
    john.get_by_role("button", name="Rename queue").click()
    expect(john.get_by_role("list", name="My queues").get_by_role("link", name="Fires 2")).to_be_visible()


def test_keyboard_j_k_and_enter_open_the_right_ticket(desk, site, john: Page):
    for subject in ("Oldest", "Middle", "Newest"):
        open_ticket(desk, subject)
    john.goto(site.url + "/staff/queues/open/")
    assert row_subjects(john) == ["Newest", "Middle", "Oldest"]
    rows = john.locator("#queue-rows tr")

    john.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    john.keyboard.press("j")
    expect(rows.nth(1)).to_have_attribute("aria-selected", "true")
    expect(rows.nth(0)).not_to_have_class(re.compile(r"\bcurrent\b"))
    john.keyboard.press("x")
    expect(john.get_by_label("Select ticket #100002")).to_be_checked()
    john.keyboard.press("j")
    john.keyboard.press("k")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))

    # Typing in a field is typing, not moving.
    john.get_by_role("searchbox").first.fill("jjk")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))

    john.locator("#queue-rows tr.current").focus()
    john.keyboard.press("Enter")
    expect(john.get_by_role("heading", name="Middle")).to_be_visible()
    assert john.url.endswith("/staff/tickets/100002/")


def test_new_tickets_arrive_at_the_top_and_counts_refresh_without_a_reload(desk, site, john: Page, settings):
    settings.TESSERA = {**settings.TESSERA, "QUEUE_POLL_SECONDS": 1, "COUNTS_POLL_SECONDS": 1}
    open_ticket(desk, "First problem")
    open_ticket(desk, "Second problem")
    john.goto(site.url + "/staff/queues/open/")
    assert row_subjects(john) == ["Second problem", "First problem"]
    john.get_by_label("Select ticket #100001").check()  # clicking in a row makes it the current one
    john.locator("body").press("k")
    expect(john.locator("#queue-rows tr.current")).to_contain_text("Second problem")
    john.evaluate("window.stillTheSamePage = true")

    open_ticket(desk, "Third problem")

    expect(john.locator("#queue-rows tr").first).to_contain_text("Third problem", timeout=10_000)
    expect(john.locator("#queue-rows tr").first).to_contain_text("New")
    expect(john.locator("#arrivals-status")).to_have_text("1 new ticket at the top of the list")
    open_count = john.get_by_role("navigation", name="Queues").get_by_role("link", name=re.compile("Open in my"))
    expect(open_count).to_contain_text("3", timeout=10_000)
    # Same page, selection and current row kept.
    assert john.evaluate("window.stillTheSamePage") is True
    expect(john.get_by_label("Select ticket #100001")).to_be_checked()
    expect(john.locator("#queue-rows tr.current")).to_contain_text("Second problem")
    assert row_subjects(john) == ["Third problem", "Second problem", "First problem"]

    # The filter panel passes axe's checks when open, with chips and rows showing.
    john.goto(site.url + f"/staff/queues/open/?priority={desk.sev_c.pk}")
    john.get_by_text("Filters, sort and columns").click()
    results = Axe().run(john, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}})
    assert [v["id"] for v in results.response["violations"]] == []
