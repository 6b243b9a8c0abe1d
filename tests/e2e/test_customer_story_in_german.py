"""Greta's browser asks for German. She signs up and confirms her address by the link in the mail,
opens a ticket (a knowledge-base article is suggested as she types the subject; she goes on),
receives the acknowledgement in German, replies from the Help Center, and rates the help once
the ticket is resolved. Every word she is shown comes from the shipped German catalogue: the
expected texts are looked up in it, and each is checked to differ from the English."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from django.utils import timezone, translation
from django.utils.translation import gettext

from tessera.accounts.models import User
from tessera.kb import services as kb_services
from tessera.satisfaction import asking
from tessera.tickets import services
from tessera.tickets.models import EntryKind, State, Ticket
from tests.conftest import body_text

pytestmark = pytest.mark.e2e

PASSWORD = "Gretas langes Passwort"
SUBJECT = "Drucker druckt nur leere Seiten"


def de(msgid: str) -> str:
    """The German catalogue's words for `msgid`, which must be translated."""
    with translation.override("de"):
        words = gettext(msgid)
    assert words != msgid, f"not translated into German: {msgid!r}"
    return words


def test_greta_signs_up_opens_a_ticket_and_rates_the_help_in_german(
    transactional_db, desk, site, smtp, browser: Browser
):
    kb_services.create_article(
        None, title="Drucker druckt leere Seiten", body="Prüfen Sie zuerst die Tonerkartusche.", is_public=True
    )
    base = site.url
    page = browser.new_context(locale="de-DE", extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"}).new_page()

    # 1. She registers; the confirmation mail is German and its link lets her choose a password.
    page.goto(base + "/register/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_label(de("Your name")).fill("Greta Gruber")
    page.get_by_label(de("Email address")).fill("greta@example.de")
    page.get_by_label(de("Email address")).press("Enter")
    expect(page.get_by_role("heading", name=de("Check your email"))).to_be_visible()
    mail = smtp.wait_for(lambda m: "greta@example.de" in m["To"])[0]
    assert mail["Subject"] == de("Confirm your address to finish signing up")
    link = re.search(re.escape(base) + r"/register/[^\s]+/", body_text(mail)).group(0)
    page.goto(link)
    page.get_by_label(de("New password"), exact=True).fill(PASSWORD)
    page.get_by_label(de("New password again")).fill(PASSWORD)
    page.get_by_label(de("New password again")).press("Enter")
    expect(page.get_by_role("heading", name=de("My tickets"))).to_be_visible()
    assert User.objects.get(email="greta@example.de").has_usable_password()

    # 2. She opens a ticket; typing the subject brings up the article, which she leaves alone.
    smtp.envelopes.clear()
    page.goto(base + "/")
    page.get_by_label(de("Help topic")).select_option(label=desk.general.name)
    page.get_by_label(de("Subject")).press_sequentially(SUBJECT, delay=20)
    expect(page.locator("#kb-suggestions").get_by_role("link", name="Drucker druckt leere Seiten")).to_be_visible()
    page.get_by_label(de("Message")).fill("Seit heute Morgen kommen nur weiße Blätter heraus.")
    page.get_by_role("button", name=de("Open ticket")).click()
    ticket = Ticket.objects.get(subject=SUBJECT)
    assert ticket.user.email == "greta@example.de"

    # 3. The acknowledgement is German.
    ack = smtp.wait_for(lambda m: "greta@example.de" in m["To"])[0]
    assert ack["Subject"].strip() == f"[{ticket.reference}] " + de("We received your request: %(s)s") % {"s": SUBJECT}
    assert '<html lang="de">' in ack.get_body(preferencelist=("html",)).get_content()

    # 4. John answers; she replies from the Help Center; once resolved, she rates the help.
    services.reply(desk.john.user, ticket, message="Bitte tauschen Sie die Kartusche.")
    page.goto(f"{base}/tickets/{ticket.number}/")
    page.get_by_label(de("Your reply")).fill("Erledigt, danke!")
    page.get_by_role("button", name=de("Send reply")).click()
    expect(page.get_by_text("Erledigt, danke!")).to_be_visible()
    assert ticket.entries.filter(kind=EntryKind.MESSAGE, body_text__contains="Erledigt").exists()

    services.set_status(desk.john.user, Ticket.objects.get(pk=ticket.pk), status=desk.resolved)
    asking.run(timezone.now() + timedelta(hours=2))  # the survey job, once its delay has passed
    page.reload()
    expect(page.get_by_role("heading", name=de("How did we do?"))).to_be_visible()
    page.locator(".star-links a").nth(4).click()  # five stars
    page.get_by_role("button", name=de("Send my rating")).click()
    expect(page.get_by_text(de("Thank you for rating the help you got."))).to_be_visible()
    assert Ticket.objects.get(pk=ticket.pk).state == State.RESOLVED
