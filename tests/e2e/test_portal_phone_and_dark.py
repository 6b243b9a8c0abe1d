"""The portal fits a 375-pixel phone screen, and both the portal and the workspace follow the
system's dark setting with readable contrast (axe's WCAG A/AA rules, contrast included)."""

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from tessera.satisfaction import tokens
from tessera.tickets import services
from tessera.tickets.access_links import access_url

from .conftest import sign_in_to_workspace
from .test_accessibility import violations

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 375, "height": 740}
LONG_WORD = "https://example.com/" + "a-very-long-path-without-any-space" * 6


def _wider_than_screen(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _portal_scene(desk):
    """Ken's tickets: one with a long unbroken subject and message, resolved and surveyed."""
    ticket = services.open_ticket(
        desk.ken,
        requester=desk.ken,
        subject="Printer " + "jams" * 30,
        message=f"It jams on page two. See {LONG_WORD}\n\n    code  block  that  is  quite  long  {LONG_WORD}",
        topic=desk.general,
    )
    services.reply(desk.john.user, ticket, message=f"Try the other tray: {LONG_WORD}")
    for n in range(3):
        services.open_ticket(
            desk.ken, requester=desk.ken, subject=f"Scanner {n}", message="Also broken.", topic=desk.general
        )
    services.set_status(desk.john.user, ticket, status=desk.resolved)
    ticket.refresh_from_db()
    return ticket


def test_every_portal_page_fits_a_phone_screen(transactional_db, desk, site, browser: Browser, no_intake_limit):
    ticket = _portal_scene(desk)
    base = site.url
    rate = base + tokens.rate_path(ticket.satisfaction_survey, 4)
    visitor = browser.new_context(viewport=PHONE).new_page()
    wide: dict[str, int] = {}
    for path in ["/", "/status/", "/login/", "/password/", "/register/", "/t/not-a-token/"]:
        visitor.goto(base + path)
        wide[path] = _wider_than_screen(visitor)
    visitor.goto(base + "/")
    visitor.get_by_role("button", name="Open ticket").click()  # the form with its errors shown
    wide["/ (errors)"] = _wider_than_screen(visitor)
    visitor.goto(access_url(ticket, desk.ken))
    wide["ticket by link"] = _wider_than_screen(visitor)
    visitor.goto(rate)
    wide["rate"] = _wider_than_screen(visitor)

    ken = browser.new_context(viewport=PHONE).new_page()
    ken.goto(base + "/login/")
    ken.get_by_label("Email address").fill("ken@example.com")
    ken.get_by_label("Password").fill(desk.password)
    ken.get_by_role("button", name="Sign in").click()
    for path in ["/tickets/", f"/tickets/{ticket.number}/", "/profile/", "/tickets/organisation/"]:
        ken.goto(base + path)
        wide[path] = _wider_than_screen(ken)
        # the navigation wraps rather than running off the screen
        bar = ken.locator(".topbar").bounding_box()
        assert bar is not None and bar["width"] <= PHONE["width"]
    assert {page: px for page, px in wide.items() if px > PHONE["width"]} == {}


def _background(page: Page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_dark_theme_pages_keep_their_contrast(transactional_db, desk, site, browser: Browser):
    ticket = _portal_scene(desk)
    services.add_note(desk.john.user, ticket, note="Internal: check the `spooler` log.")
    base = site.url
    found: dict[str, list[str]] = {}

    visitor = browser.new_context(color_scheme="dark").new_page()
    visitor.goto(base + "/")
    assert _background(visitor) == "rgb(15, 17, 21)", "the portal should follow the dark setting"
    found["/"] = violations(visitor)
    visitor.get_by_role("button", name="Open ticket").click()
    found["/ (errors)"] = violations(visitor)
    visitor.goto(base + "/register/")
    found["/register/"] = violations(visitor)
    visitor.goto(access_url(ticket, desk.ken))
    found["ticket by link"] = violations(visitor)
    visitor.goto(base + tokens.rate_path(ticket.satisfaction_survey, 4))
    found["rate"] = violations(visitor)

    john = browser.new_context(color_scheme="dark").new_page()
    sign_in_to_workspace(john, base, "john@example.com", desk.password)
    assert _background(john) == "rgb(15, 17, 21)", "the workspace should follow the dark setting"
    for path in ["/staff/", "/staff/queues/open/", f"/staff/tickets/{ticket.number}/", "/staff/profile/"]:
        assert john.goto(base + path).ok, path
        found[path] = violations(john)

    # The light theme is unchanged, and the satisfaction pages pass there too.
    light = browser.new_context(color_scheme="light").new_page()
    light.goto(base + "/")
    assert _background(light) == "rgb(246, 247, 249)"
    light.goto(access_url(ticket, desk.ken))
    found["light: ticket with the rating prompt"] = violations(light)
    light.goto(base + tokens.rate_path(ticket.satisfaction_survey, 4))
    found["light: rate"] = violations(light)
    assert {page: problems for page, problems in found.items() if problems} == {}
