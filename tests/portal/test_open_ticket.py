"""Opening a ticket on the portal home page, as a guest or signed in."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from django.urls import reverse

from tessera.accounts.models import User
from tessera.tickets.models import Attachment, EntryKind, Ticket

from .helpers import PNG, assert_accessible_page, page_text, upload

HOME = reverse("portal:home")


def guest_form(desk, **overrides) -> dict:
    data = {
        "name": "Greta Guest",
        "email": "Greta@Example.org",
        "topic": desk.outage.pk,
        "subject": "Mail server down",
        "message": "Since 9:00 nobody can send **anything**.",
    }
    data.update(overrides)
    return data


def test_home_page_welcomes_and_offers_only_public_topics(client, desk):
    response = client.get(HOME)

    assert response.status_code == 200
    html = page_text(response)
    assert "How can we help?" in html
    assert "Open a new ticket" in html
    assert desk.general.name in html and desk.outage.name in html
    assert desk.internal.name not in html
    assert 'type="file"' in html and "multiple" in html
    assert_accessible_page(response)


def test_guest_opens_ticket_and_gets_its_number_by_email(client, desk, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(HOME, guest_form(desk))

    assert response.status_code == 302
    assert response.url == reverse("portal:opened")
    ticket = Ticket.objects.get()
    assert ticket.subject == "Mail server down"
    assert ticket.topic == desk.outage
    assert ticket.department == desk.sysadmin
    assert ticket.user.email == "greta@example.org"
    assert ticket.user.name == "Greta Guest"
    assert not ticket.user.has_usable_password()

    confirmation = client.get(response.url)
    html = page_text(confirmation)
    assert confirmation.status_code == 200
    # A guest learns the number by email only: the page must read the same for every address.
    assert f"#{ticket.number}" not in html
    assert "sent an email" in html and "greta@example.org" in html

    # The email carries the number and the private link, and the link opens the ticket.
    mail = [m for m in mailoutbox if m.to == ["greta@example.org"]]
    assert len(mail) == 1
    assert "[#100001]" in mail[0].subject
    link = re.search(r"https?://\S+/t/\S+/", mail[0].body).group(0)
    followed = client.get(urlsplit(link).path)
    assert followed.status_code == 200
    assert "Mail server down" in page_text(followed)


def test_confirmation_url_shows_nothing_to_another_browser(client, desk):
    opened = client.post(HOME, guest_form(desk))
    assert str(Ticket.objects.get().number) not in opened.url

    from django.test import Client

    stranger = Client().get(opened.url)
    assert stranger.status_code == 302
    assert stranger.url == HOME


def test_signed_in_user_opens_ticket_without_name_or_email(client, desk):
    client.force_login(desk.ken)
    form_page = client.get(HOME)
    assert 'name="email"' not in page_text(form_page)
    assert 'name="name"' not in page_text(form_page)
    assert "ken@example.com" in page_text(form_page)

    response = client.post(
        HOME, {"topic": desk.general.pk, "subject": "Toner low", "message": "Please send a new cartridge."}
    )

    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Toner low")
    assert ticket.user == desk.ken
    assert ticket.department == desk.support
    confirmation = client.get(response.url)
    assert f"#{ticket.number}" in page_text(confirmation)
    assert reverse("portal:ticket", args=[ticket.number]) in page_text(confirmation)


def test_ticket_opens_with_attachments(client, desk):
    files = [upload("screen.png", PNG, "image/png"), upload("notes.txt", b"step one\n", "text/plain")]

    response = client.post(HOME, {**guest_form(desk), "attachments": files})

    assert response.status_code == 302
    entry = Ticket.objects.get().entries.get(kind=EntryKind.MESSAGE)
    assert sorted(a.name for a in entry.attachments.all()) == ["notes.txt", "screen.png"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"subject": ""}, "subject", "Give the ticket a subject."),
        ({"subject": "<b></b>"}, "subject", "Give the ticket a subject."),
        ({"message": "   "}, "message", "Write a message first."),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"name": ""}, "name", "Tell us your name."),
        ({"topic": ""}, "topic", "Choose a help topic."),
        ({"topic": "999999"}, "topic", "Choose one of the help topics listed."),
    ],
)
def test_incomplete_form_comes_back_with_the_problem_and_the_typed_text(client, desk, overrides, field, message):
    data = guest_form(desk, **overrides)

    response = client.post(HOME, data)

    assert response.status_code == 400
    html = page_text(response)
    assert message in html
    assert f'href="#id_{field}"' in html  # the error summary points at the field
    assert Ticket.objects.count() == 0
    # What was typed is still there (the field in error may be the empty one).
    for name in ("subject", "email", "name"):
        if data[name] and name not in overrides:
            assert f'value="{data[name]}"' in html
    if data["message"].strip():
        assert "nobody can send **anything**" in html
    assert_accessible_page(response)


def test_non_public_topic_is_refused(client, desk):
    response = client.post(HOME, guest_form(desk, topic=desk.internal.pk))

    assert response.status_code == 400
    assert "Choose one of the help topics listed." in page_text(response)
    assert not Ticket.objects.exists()


def test_inactive_topic_is_refused(client, desk):
    desk.outage.is_active = False
    desk.outage.save()

    response = client.post(HOME, guest_form(desk))

    assert response.status_code == 400
    assert "Choose one of the help topics listed." in page_text(response)


def test_oversized_message_is_refused_and_kept(client, desk, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_MESSAGE_LENGTH": 50}
    long_message = "The printer makes a noise. " * 3

    response = client.post(HOME, guest_form(desk, message=long_message))

    assert response.status_code == 400
    html = page_text(response)
    assert f"This is {len(long_message.strip())} characters long; the limit is 50." in html
    assert "The printer makes a noise." in html
    assert 'value="Mail server down"' in html
    assert not Ticket.objects.exists()


def test_program_attachment_is_refused(client, desk):
    response = client.post(HOME, {**guest_form(desk), "attachments": [upload("setup.exe", b"MZ\x90\x00")]})

    assert response.status_code == 400
    html = page_text(response)
    assert "“setup.exe”: files of type .exe are not accepted." in html
    assert "choose them again" in html
    assert 'value="Mail server down"' in html
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_attachment_over_the_size_limit_is_refused(client, desk, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_ATTACHMENT_BYTES": 10}

    response = client.post(HOME, {**guest_form(desk), "attachments": [upload("big.log", b"x" * 20, "text/plain")]})

    assert response.status_code == 400
    assert "“big.log” is 20\xa0bytes; the limit is 10\xa0bytes." in page_text(response)
    assert not Ticket.objects.exists()


def test_refused_ticket_leaves_no_account_for_the_address(client, desk):
    client.post(HOME, {**guest_form(desk), "attachments": [upload("setup.exe", b"MZ")]})

    assert not User.objects.filter(email="greta@example.org").exists()


def test_markup_in_subject_and_message_is_stored_clean_and_shown_harmless(client, desk):
    client.force_login(desk.ken)
    response = client.post(
        HOME,
        {
            "topic": desk.general.pk,
            "subject": "<script>alert('s')</script>Printer <b>on fire</b> & 1 < 2",
            "message": "<script>alert('m')</script>\n<img src=x onerror=alert(1)> **really**",
        },
    )
    assert response.status_code == 302

    ticket = Ticket.objects.get()
    assert ticket.subject == "Printer on fire & 1 < 2"
    entry = ticket.entries.get()
    assert "<script" not in entry.body_html
    assert "<img" not in entry.body_html
    assert "&lt;script&gt;" in entry.body_html
    assert "<strong>really</strong>" in entry.body_html

    page = page_text(client.get(reverse("portal:ticket", args=[ticket.number])))
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "Printer on fire &amp; 1 &lt; 2" in page
    assert "&lt;script&gt;alert('m')&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
