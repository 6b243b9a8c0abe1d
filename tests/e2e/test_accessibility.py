"""The pages people use all day pass axe's automated accessibility rules (WCAG A/AA):
labels, names, contrast, landmarks, headings."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser

from tessera.mail import ingest
from tessera.tickets import services
from tessera.tickets.access_links import access_url

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations(page) -> list[str]:
    results = Axe().run(page, options=WCAG)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def test_portal_and_workspace_pages_have_no_accessibility_violations(transactional_db, desk, site, browser: Browser):
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="It jams on **page two**.", topic=desk.general
    )
    services.add_note(desk.john.user, ticket, note="Internal: check the spooler.")
    services.reply(desk.john.user, ticket, message="We are on it.")
    emailed = ingest.ingest(
        b"From: Mia Customer <mia@example.org>\r\nTo: support@example.com\r\nSubject: VPN drops\r\n"
        b"Message-ID: <a11y-1@example.org>\r\nDate: Fri, 27 Nov 2026 20:30:00 +0000\r\n\r\n"
        b"My VPN drops every hour.\r\n",
        channel="pipe",
    )
    base = site.url
    found: dict[str, list[str]] = {}

    visitor = browser.new_page()
    for path in ["/", "/status/", "/login/"]:
        visitor.goto(base + path)
        found[path] = violations(visitor)
    visitor.goto(base + "/")
    visitor.get_by_role("button", name="Open ticket").click()  # the form with its errors shown
    found["/ (errors)"] = violations(visitor)
    visitor.goto(access_url(ticket, desk.ken))
    found["access link"] = violations(visitor)

    john = browser.new_context().new_page()
    sign_in_to_workspace(john, base, "john@example.com", desk.password)
    for path in [
        "/staff/",
        "/staff/queues/unassigned/",
        f"/staff/tickets/{ticket.number}/",
        f"/staff/tickets/{emailed.ticket.number}/",
        f"/staff/mail/received/{emailed.pk}/",
        "/staff/profile/",
    ]:
        assert john.goto(base + path).ok, path
        found[path] = violations(john)

    assert {page: problems for page, problems in found.items() if problems} == {}
