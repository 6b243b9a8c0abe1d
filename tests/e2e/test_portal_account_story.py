"""Nina opened a ticket as a guest last week. On her phone (375 px wide), with the keyboard
alone, she signs up, follows the verification link that reaches her mailbox (a real SMTP peer),
chooses her password, finds her guest ticket under "My tickets", edits her profile, and signs in
again with the new password. Every page passes axe and fits the screen."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tessera.accounts.models import User
from tessera.tickets import services
from tests.conftest import body_text

from .test_accessibility import violations

pytestmark = pytest.mark.e2e

PASSWORD = "nina's long passphrase"


def fits_the_phone(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_guest_signs_up_verifies_and_finds_her_earlier_ticket(transactional_db, desk, site, smtp, browser: Browser):
    services.open_ticket_for_guest(
        email="nina@example.net",
        name="Nina North",
        subject="Parcel never arrived",
        message="Order 7.",
        topic=desk.general,
    )
    smtp.envelopes.clear()  # the acknowledgement of that ticket
    base = site.url
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    found: dict[str, list[str]] = {}

    page.goto(base + "/login/")
    page.get_by_role("link", name="Create an account").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(base + "/register/")
    found["register"] = violations(page)
    assert fits_the_phone(page)
    page.get_by_label("Your name").focus()
    page.keyboard.type("Nina North")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email address")).to_be_focused()  # the hidden trap is not in the way
    page.keyboard.type("nina@example.net")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    mail = smtp.wait_for(lambda m: "nina@example.net" in m["To"])[0]
    assert mail["Subject"] == "Confirm your address to finish signing up"
    link = re.search(re.escape(base) + r"/register/[^\s]+/", body_text(mail)).group(0)
    assert not User.objects.get(email="nina@example.net").has_usable_password()

    page.goto(link)
    found["choose password"] = violations(page)
    page.get_by_label("New password", exact=True).focus()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
    expect(page.get_by_text("Your address is confirmed")).to_be_visible()
    expect(page.get_by_role("link", name="Parcel never arrived")).to_be_visible()
    assert fits_the_phone(page)

    page.get_by_role("link", name="Profile").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    found["profile"] = violations(page)
    assert fits_the_phone(page)
    page.get_by_label("Your name").fill("Nina North-Smith")
    page.get_by_role("region", name="About you").get_by_label("Language").select_option("en")
    page.get_by_label("Time zone").select_option("Europe/Lisbon")
    page.get_by_role("button", name="Save profile").press("Enter")
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    nina = User.objects.get(email="nina@example.net")
    assert (nina.name, nina.language, nina.time_zone) == ("Nina North-Smith", "en", "Europe/Lisbon")

    page.get_by_role("button", name="Sign out").press("Enter")
    page.goto(base + "/login/")
    page.get_by_label("Email address").fill("nina@example.net")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("link", name="Parcel never arrived")).to_be_visible()

    assert found == {name: [] for name in found}, found
    context.close()
