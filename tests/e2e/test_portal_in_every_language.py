"""Every Help Center page, in every language the desk ships, says which language it is in, shows
that language, and passes axe's WCAG checks: longer German words or French punctuation must not
break a label, a name or the layout's contrast."""

from datetime import timedelta

import pytest
from playwright.sync_api import Browser

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from tessera.kb import services as kb_services
from tessera.satisfaction import asking
from tessera.satisfaction.models import Survey
from tessera.satisfaction.tokens import rate_url
from tessera.tickets import services
from tessera.tickets.access_links import access_url

from .test_accessibility import violations

pytestmark = pytest.mark.e2e


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(base + "/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(password)
    page.locator("#id_password").press("Enter")
    page.wait_for_load_state()


@pytest.mark.parametrize("code", [code for code, _name in settings.LANGUAGES])
def test_every_portal_page_in_every_language_is_translated_and_passes_axe(
    code: str, transactional_db, desk, site, browser: Browser
):
    article = kb_services.create_article(
        None, title="Printer jams", body="Open the **rear tray**.", is_public=True, featured=True
    )
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="It jams on page two.", topic=desk.general
    )
    services.reply(desk.john.user, ticket, message="Please open the rear tray.")
    resolved = services.open_ticket(
        desk.ken, requester=desk.ken, subject="VPN drops", message="Every hour.", topic=desk.general
    )
    services.set_status(desk.john.user, resolved, status=desk.resolved)
    asking.run(timezone.now() + timedelta(hours=2))
    survey = Survey.objects.get(ticket=resolved)
    base = site.url
    visitor_pages = {
        "new ticket": "/",
        "new ticket (errors)": None,  # the form sent empty
        "find my tickets": "/status/",
        "sign in": "/login/",
        "register": "/register/",
        "password reset": "/password/",
        "knowledge base": "/kb/",
        "search": "/kb/search/?q=printer",
        "article": f"/kb/articles/{article.slug}/",
        "ticket by link": access_url(ticket, desk.ken).removeprefix(base),
        "rating": rate_url(survey, 4).removeprefix(base),
    }
    member_pages = {
        "my tickets": "/tickets/",
        "ticket": f"/tickets/{ticket.number}/",
        "resolved ticket": f"/tickets/{resolved.number}/",
        "profile": "/profile/",
    }
    found: dict[str, list[str]] = {}
    with translation.override(code):
        shown = gettext("Open a ticket")
    if code != settings.LANGUAGE_CODE:
        assert shown != "Open a ticket", f"{code}: the catalogue is not translated"
    context = browser.new_context(locale=code, extra_http_headers={"Accept-Language": code})
    page = context.new_page()
    for name, path in visitor_pages.items():
        if path is None:
            page.goto(base + "/")
            page.locator("form button[type=submit]").last.click()
        else:
            assert page.goto(base + path).ok, (code, name)
        assert page.locator("html").get_attribute("lang") == code, (code, name)
        found[f"{code} {name}"] = violations(page)
    page.goto(base + "/kb/")
    assert page.get_by_role("link", name=shown).count() >= 1, code  # the navigation, in that language
    sign_in(page, base, "ken@example.com", desk.password)
    for name, path in member_pages.items():
        assert page.goto(base + path).ok, (code, name)
        assert page.locator("html").get_attribute("lang") == code, (code, name)
        found[f"{code} {name}"] = violations(page)
    context.close()
    assert {page: problems for page, problems in found.items() if problems} == {}
