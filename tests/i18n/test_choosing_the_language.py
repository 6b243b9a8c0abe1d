"""Which language a page is served in: the browser's Accept-Language until the person chooses
with the picker (a cookie), and a signed-in person's stored choice above both. The API keeps
its English whatever is asked."""

from __future__ import annotations

import re

import pytest

from django.conf import settings
from django.urls import reverse

HOME = "/"
PICK = "/language/"


def page_language(response) -> str:
    match = re.search(r'<html lang="([^"]*)"', response.content.decode())
    assert match, "no <html lang> on the page"
    return match.group(1)


@pytest.fixture
def german_browser(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9,en;q=0.5"
    return client


def test_a_german_browser_gets_the_portal_in_german(db, german_browser, german_catalogue):
    response = german_browser.get(HOME)
    assert page_language(response) == "de"
    assert response["Content-Language"] == "de"
    assert "Ticket eröffnen" in response.content.decode()


def test_an_unshipped_language_falls_back_to_english(db, client):
    response = client.get(HOME, HTTP_ACCEPT_LANGUAGE="ja-JP,ja;q=0.9")
    assert page_language(response) == "en"


def test_the_page_varies_on_the_language_headers_so_caches_do_not_mix_languages(db, german_browser):
    vary = {v.strip().lower() for v in german_browser.get(HOME)["Vary"].split(",")}
    assert {"accept-language", "cookie"} <= vary


def test_the_picker_overrides_the_browser_and_returns_to_the_page(db, german_browser, german_catalogue):
    response = german_browser.post(PICK, {"language": "fr", "next": "/status/"})
    assert response.status_code == 302 and response["Location"] == "/status/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "fr" and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert page_language(german_browser.get(HOME)) == "fr"


def test_the_portal_shows_a_labelled_picker_with_each_language_in_its_own_name(db, german_browser):
    page = german_browser.get(HOME).content.decode()
    assert '<form method="post" action="/language/"' in page
    assert '<label for="language-picker"' in page
    assert '<option value="de" lang="de" selected>Deutsch</option>' in page
    assert '<option value="fr" lang="fr">français</option>' in page


def test_a_signed_in_customers_stored_language_wins_over_browser_and_cookie(db, desk, german_browser):
    desk.ken.language = "es"
    desk.ken.save()
    german_browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    german_browser.force_login(desk.ken)
    assert page_language(german_browser.get(reverse("portal:my_tickets"))) == "es"


def test_the_picker_stores_a_signed_in_customers_choice_for_every_browser_and_mail(db, desk, client):
    client.force_login(desk.ken)
    client.post(PICK, {"language": "de", "next": "/"})
    desk.ken.refresh_from_db()
    assert desk.ken.language == "de"

    other_browser = type(client)()
    other_browser.force_login(desk.ken)
    assert page_language(other_browser.get(reverse("portal:my_tickets"))) == "de"


def test_a_customer_who_never_chose_follows_the_browser(db, desk, german_browser):
    german_browser.force_login(desk.ken)
    assert page_language(german_browser.get(reverse("portal:my_tickets"))) == "de"


def test_an_agent_reads_the_workspace_in_their_language(db, desk, client):
    desk.john.user.language = "fr"
    desk.john.user.save()
    client.force_login(desk.john.user)
    assert page_language(client.get("/staff/")) == "fr"


# ---------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "header",
    [
        "x" * 5000,
        "de;q=abc, ,,;;q=1",
        "../../etc/passwd",
        "de-DE\r\nSet-Cookie: a=b",
        "*;q=0.1, zz-ZZ;q=1",
        "<script>alert(1)</script>",
    ],
)
def test_a_hostile_accept_language_header_does_no_harm(db, client, header):
    response = client.get(HOME, HTTP_ACCEPT_LANGUAGE=header)
    assert response.status_code == 200
    assert page_language(response) in {code for code, _name in settings.LANGUAGES}
    assert "<script>alert(1)" not in response.content.decode()


@pytest.mark.parametrize("value", ["xx", "../../de", "de\x00", '"><script>alert(1)</script>', "de" * 100])
def test_a_hostile_language_cookie_does_no_harm(db, client, value):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = value
    response = client.get(HOME)
    assert response.status_code == 200
    assert page_language(response) == "en"
    assert "<script>alert(1)" not in response.content.decode()


@pytest.mark.parametrize("language", ["xx", "", "../de", "de-DE' OR 1=1"])
def test_the_picker_refuses_an_unshipped_language_and_stores_nothing(db, desk, client, language):
    client.force_login(desk.ken)
    response = client.post(PICK, {"language": language, "next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    desk.ken.refresh_from_db()
    assert desk.ken.language == ""


def test_the_picker_never_sends_anyone_to_another_site(db, client):
    response = client.post(PICK, {"language": "de", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_the_picker_needs_the_forms_csrf_token(db, desk):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(desk.ken)
    assert browser.post(PICK, {"language": "de", "next": "/"}).status_code == 403
    desk.ken.refresh_from_db()
    assert desk.ken.language == ""


def test_the_picker_answers_only_posts(db, client):
    assert client.get(PICK).status_code == 405


def test_a_stored_language_the_desk_does_not_ship_counts_as_no_choice(db, desk, german_browser):
    desk.ken.language = "tlh"  # an import, an old row
    desk.ken.save()
    german_browser.force_login(desk.ken)
    assert page_language(german_browser.get(reverse("portal:my_tickets"))) == "de"


# ---------------------------------------------------------------------------- the API


def test_the_api_answers_in_english_whatever_the_caller_asks(db, desk, german_browser, german_catalogue):
    desk.ken.language = "de"
    desk.ken.save()
    response = german_browser.get("/api/v1/tickets", HTTP_AUTHORIZATION="Bearer not-a-key")
    assert response.status_code == 401
    assert response["Content-Language"] == "en"
