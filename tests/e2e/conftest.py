"""Browser stories run against a live server with mail going to a real SMTP peer."""

import re

import pytest
from playwright.sync_api import Page, expect


@pytest.fixture
def site(live_server, settings, smtp):
    """The live desk: links inside emails point at it, and its mail reaches `smtp`."""
    settings.TESSERA = {**settings.TESSERA, "BASE_URL": live_server.url}
    return live_server


@pytest.fixture
def csp_violations(page: Page):
    """Collects Content-Security-Policy violations (and script errors) the page reports."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def sign_in_to_workspace(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(base_url + "/staff/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def link_in(text: str, base_url: str) -> str:
    match = re.search(re.escape(base_url) + r"/t/[^\s\"<>]+/", text)
    assert match, f"no access link in: {text}"
    return match.group(0)
