"""Signing in and out, and setting a password: how a guest who opened tickets gets an account."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.urls import reverse

from tessera.accounts.services import end_user_for_email

from .helpers import comparable, page_text

LOGIN = reverse("portal:login")


def test_sign_in_with_email_in_any_case_goes_to_my_tickets(client, desk, ken_ticket):
    response = client.post(LOGIN, {"username": "KEN@example.com", "password": desk.password})

    assert response.status_code == 302
    assert response.url == reverse("portal:my_tickets")
    assert "Printer jams" in page_text(client.get(response.url))


def test_sign_in_returns_to_the_page_asked_for(client, desk, ken_ticket):
    target = reverse("portal:ticket", args=[ken_ticket.number])
    login_page = client.get(target, follow=True)
    assert f'name="next" value="{target}"' in page_text(login_page)

    response = client.post(LOGIN, {"username": "ken@example.com", "password": desk.password, "next": target})

    assert response.url == target


def test_wrong_password_explains_and_keeps_the_address(client, desk):
    response = client.post(LOGIN, {"username": "ken@example.com", "password": "nope"})

    assert response.status_code == 400
    html = page_text(response)
    assert "That email address and password do not match." in html
    assert 'value="ken@example.com"' in html


def test_sign_out_is_a_post_and_returns_home(client, desk):
    client.force_login(desk.ken)
    assert "Sign out" in page_text(client.get(reverse("portal:home")))

    assert client.get(reverse("portal:logout")).status_code == 405
    response = client.post(reverse("portal:logout"))

    assert response.status_code == 302
    assert response.url == reverse("portal:home")
    assert "Sign in" in page_text(client.get(response.url))


def test_guest_sets_a_password_by_email_and_is_signed_in(client, desk, mailoutbox, settings):
    settings.TESSERA = {**settings.TESSERA, "BASE_URL": "https://help.example.com"}
    guest = end_user_for_email(email="greta@example.org", name="Greta Guest")
    assert not guest.has_usable_password()

    sent = client.post(reverse("portal:password_reset"), {"email": "Greta@example.org"}, follow=True)

    assert "Check your email" in page_text(sent)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["greta@example.org"]
    link = re.search(r"https://help\.example\.com(/password/\S+/)", mail.body).group(1)
    assert link in mail.alternatives[0].content

    form = client.get(link, follow=True)
    assert "Choose a password" in page_text(form)
    set_url = urlsplit(form.redirect_chain[-1][0]).path
    new_password = "plum tree under snow 42"
    done = client.post(set_url, {"new_password1": new_password, "new_password2": new_password}, follow=True)

    assert "Your password is set" in page_text(done)
    assert done.context["user"] == guest
    guest.refresh_from_db()
    assert guest.check_password(new_password)
    client.logout()
    assert client.post(LOGIN, {"username": "greta@example.org", "password": new_password}).status_code == 302


def test_password_reset_answers_the_same_for_unknown_addresses(client, desk, mailoutbox):
    known = client.post(reverse("portal:password_reset"), {"email": "ken@example.com"}, follow=True)
    unknown = client.post(reverse("portal:password_reset"), {"email": "who@example.org"}, follow=True)

    assert [m.to for m in mailoutbox] == [["ken@example.com"]]
    assert comparable(known) == comparable(unknown)


def test_mismatched_new_passwords_come_back_with_a_message(client, desk, mailoutbox):
    client.post(reverse("portal:password_reset"), {"email": "ken@example.com"})
    link = re.search(r"https?://[^/\s]+(/password/\S+/)", mailoutbox[0].body).group(1)
    set_url = urlsplit(client.get(link, follow=True).redirect_chain[-1][0]).path

    response = client.post(set_url, {"new_password1": "plum tree under snow", "new_password2": "other"})

    assert response.status_code == 400
    assert "didn’t match" in page_text(response) or "didn't match" in page_text(response)
