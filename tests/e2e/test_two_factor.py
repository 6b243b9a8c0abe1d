"""In Chromium: an agent turns on two-factor authentication from the profile with an
authenticator app, then signs in with the password and a code the app computes."""

import pytest
from playwright.sync_api import Page, expect

from tests.accounts.helpers import app_code

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e


def test_agent_enrols_an_app_and_signs_in_with_its_code(transactional_db, desk, site, page: Page, csp_violations):
    base = site.url
    sign_in_to_workspace(page, base, "john@example.com", desk.password)

    page.goto(base + "/staff/profile/")
    page.get_by_role("link", name="Set up two-factor authentication").click()
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code from the app").fill(app_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_role("heading", name="Your apps and passkeys")).to_be_visible()
    page.get_by_role("button", name="Sign out").first.click()

    # Signing in again: the password, then the code.
    page.goto(base + "/staff/login/")
    page.get_by_label("Email address").fill("john@example.com")
    page.get_by_label("Password").fill(desk.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.goto(base + "/staff/profile/")  # the workspace stays closed until the code is given
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()

    page.get_by_label("Code").fill(app_code(secret, steps_ahead=1))
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(page.get_by_text("On: signing in asks for a code from your authenticator app.")).to_be_visible()
    assert csp_violations == []


def test_agent_adds_a_passkey_and_signs_in_with_it(transactional_db, desk, site, page: Page, csp_violations):
    """Chromium's virtual authenticator (DevTools WebAuthn domain) stands in for a phone or key."""
    from django_otp_webauthn.models import WebAuthnCredential

    base = site.url
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    sign_in_to_workspace(page, base, "john@example.com", desk.password)

    page.goto(base + "/account/two-factor/")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert WebAuthnCredential.objects.filter(user=desk.john.user, confirmed=True).count() == 1
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_role("heading", name="Your apps and passkeys")).to_be_visible()
    page.get_by_role("button", name="Sign out").first.click()

    page.goto(base + "/staff/login/")
    page.get_by_label("Email address").fill("john@example.com")
    page.get_by_label("Password").fill(desk.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_role("button", name="Use a passkey instead").click()

    expect(page).to_have_url(base + "/staff/")
    page.goto(base + "/staff/profile/")
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    assert csp_violations == []
