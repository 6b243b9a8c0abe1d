"""Mia opened a ticket as a guest and deleted the mail with its link. On "Find my tickets" she
gives her address, the mail with a link to each of her open tickets reaches her mailbox (a real
SMTP peer), and the link opens her ticket, where she answers. Someone asking for an unknown
address sees the very same page and nothing is sent."""

import re

import pytest
from playwright.sync_api import Browser, expect

from tessera.tickets import services
from tests.conftest import body_text

pytestmark = pytest.mark.e2e


def ask_for_links(page, base: str, address: str) -> str:
    page.goto(base + "/")
    page.get_by_role("link", name="Find my tickets").click()
    page.get_by_label("Email address").fill(address)
    page.get_by_role("button", name="Email me my links").click()
    return page.locator("main").inner_text()


def test_a_guest_recovers_her_lost_link_by_mail(transactional_db, desk, site, smtp, browser: Browser):
    ticket = services.open_ticket_for_guest(
        email="mia@example.org", name="Mia Customer", subject="VPN drops", message="Every hour.", topic=desk.general
    )
    smtp.envelopes.clear()  # the acknowledgement with the link she lost
    base = site.url
    page = browser.new_context().new_page()

    answer = ask_for_links(page, base, "mia@example.org")
    mail = smtp.wait_for(lambda m: "mia@example.org" in m["To"])[0]
    assert mail["Subject"] == "Links to your open tickets"
    link = re.search(re.escape(base) + r"/t/[^\s\"<>]+/", body_text(mail)).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", name="VPN drops")).to_be_visible()
    page.get_by_label("Your reply").fill("It dropped again at noon.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("It dropped again at noon.")).to_be_visible()
    assert ticket.entries.filter(body_text__contains="dropped again").exists()

    stranger = browser.new_context().new_page()
    assert ask_for_links(stranger, base, "nobody@example.org") == answer
    assert smtp.to("nobody@example.org") == []
