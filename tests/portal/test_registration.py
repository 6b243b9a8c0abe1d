"""Signing up on the Help Center: the address is proved by a mailed link before the account can
sign in, a guest becomes the same person, and the page never tells who has an account."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest

from django.core import signing
from django.urls import reverse

from tessera.accounts.models import User
from tessera.portal.models import PortalSettings, Registration
from tessera.tickets import services

from .helpers import assert_accessible_page, comparable, page_text

REGISTER = reverse("portal:register")
NEW_PASSWORD = "a long and new passphrase"


def _link(mail) -> str:
    return urlsplit(re.search(r"http\S+/register/\S+/", mail.body).group(0)).path


def _register(client, email="nina@example.net", name="Nina North", **extra):
    return client.post(REGISTER, {"name": name, "email": email, **extra}, follow=True)


def test_new_desks_start_with_public_registration(db):
    from importlib import import_module

    from django.apps import apps

    # What the migration writes on a new desk (the row itself may have been flushed by an
    # earlier transactional test on this worker), and what a missing row reads as.
    PortalSettings.objects.all().delete()
    import_module("tessera.portal.migrations.0001_portal_settings").public_registration(apps, None)
    assert PortalSettings.objects.filter(pk=1, registration="public").exists()
    PortalSettings.objects.all().delete()
    assert PortalSettings.load().registration == Registration.PUBLIC


def test_the_admin_list_opens_the_one_settings_row_and_offers_no_add(admin_client, db):
    PortalSettings.objects.all().delete()
    response = admin_client.get("/admin/portal/portalsettings/")
    assert response.status_code == 302 and response["Location"] == "/admin/portal/portalsettings/1/change/"
    assert PortalSettings.objects.filter(pk=1).exists()
    assert admin_client.get("/admin/portal/portalsettings/add/").status_code == 403


def test_sign_up_mails_a_link_and_the_account_signs_in_only_after_it(client, desk, mailoutbox):
    response = _register(client)

    assert response.redirect_chain == [(reverse("portal:register_sent"), 302)]
    assert "We have sent a message to the address you gave" in page_text(response)
    assert [m.to for m in mailoutbox] == [["nina@example.net"]]
    assert not User.objects.filter(email="nina@example.net").exists()  # nothing until the link is used
    assert not client.login(username="nina@example.net", password=NEW_PASSWORD)

    link = _link(mailoutbox[0])
    page = client.get(link)
    assert page.status_code == 200 and "nina@example.net" in page_text(page)
    assert_accessible_page(page)
    done = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)

    assert done.redirect_chain[-1][0] == reverse("portal:my_tickets")
    assert "Your address is confirmed" in page_text(done)
    nina = User.objects.get(email="nina@example.net")
    assert nina.name == "Nina North" and nina.check_password(NEW_PASSWORD)
    client.logout()
    assert client.login(username="nina@example.net", password=NEW_PASSWORD)


def test_a_guest_who_signs_up_finds_their_earlier_tickets(client, desk, mailoutbox):
    earlier = services.open_ticket_for_guest(
        email="gus@example.net", name="Gus Guest", subject="Lost parcel", message="Where?", topic=desk.general
    )
    mailoutbox.clear()
    guest = User.objects.get(email="gus@example.net")
    assert not guest.has_usable_password()

    _register(client, email="GUS@example.net", name="Gus G.")
    client.post(_link(mailoutbox[-1]), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert User.objects.filter(email="gus@example.net").count() == 1
    guest.refresh_from_db()
    assert guest.check_password(NEW_PASSWORD) and guest.name == "Gus Guest"  # the name they gave first stays
    mine = client.get(reverse("portal:my_tickets"))
    assert earlier.subject in page_text(mine)


def test_an_address_with_an_account_gets_the_same_page_and_a_sign_in_mail(client, desk, mailoutbox):
    new = _register(client, email="nina@example.net")
    existing = _register(client, email="ken@example.com", name="Someone Else")

    assert comparable(new) == comparable(existing)
    mail = mailoutbox[-1]
    assert mail.to == ["ken@example.com"] and "already has an account" in mail.body
    reset = urlsplit(re.search(r"http\S+/password/\S+/\S+/", mail.body).group(0)).path
    assert client.get(reset, follow=True).status_code == 200
    desk.ken.refresh_from_db()
    assert desk.ken.check_password(desk.password) and desk.ken.name == "Ken Adams"


@pytest.mark.parametrize("who", ["john", "admin"])
def test_staff_addresses_cannot_be_registered_and_the_page_does_not_say_so(client, desk, mailoutbox, who):
    address = {"john": "john@example.com", "admin": "admin@example.com"}[who]
    baseline = _register(client, email="nina@example.net")
    mailoutbox.clear()

    answer = _register(client, email=address)

    assert comparable(answer) == comparable(baseline)
    assert mailoutbox == []
    staff = User.objects.get(email=address)
    assert staff.check_password(desk.password)


def test_a_link_for_an_address_given_to_an_agent_meanwhile_is_refused(client, desk, mailoutbox):
    from tessera.accounts.models import Agent

    _register(client, email="newagent@example.com")
    link = _link(mailoutbox[0])
    Agent.objects.create(user=User.objects.create_user("newagent@example.com", name="New Agent"))

    refused = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert refused.status_code == 410
    assert not User.objects.get(email="newagent@example.com").has_usable_password()


def test_a_tampered_link_is_refused(client, desk, mailoutbox):
    _register(client)
    link = _link(mailoutbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    forged_payload = signing.TimestampSigner(salt="tessera.portal.signup").sign_object(
        {"e": "ken@example.com", "n": ""}
    )
    tampered = [
        link.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")),
        link.replace(token, forged_payload.split(":")[0] + ":" + token.split(":", 1)[1]),
        reverse("portal:register_verify", args=["nothing-signed-here"]),
    ]
    for path in tampered:
        response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert response.status_code == 404, path
        assert "expired or is incomplete" in page_text(response)
    assert not User.objects.filter(email="nina@example.net").exists()


def test_an_expired_link_is_refused(client, desk, mailoutbox, settings, monkeypatch):
    _register(client)
    link = _link(mailoutbox[0])
    later = time.time() + settings.TESSERA["SIGNUP_LINK_HOURS"] * 3600 + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)

    response = client.get(link)

    assert response.status_code == 404
    assert "expired" in page_text(response)


def test_a_used_link_cannot_set_the_password_again(client, desk, mailoutbox):
    _register(client)
    link = _link(mailoutbox[0])
    client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    client.logout()

    again = client.post(link, {"new_password1": "someone elses password", "new_password2": "someone elses password"})

    assert again.status_code == 410 and "already been used" in page_text(again)
    assert User.objects.get(email="nina@example.net").check_password(NEW_PASSWORD)


def test_a_weak_or_mistyped_password_keeps_the_page_and_says_why(client, desk, mailoutbox):
    _register(client)
    link = _link(mailoutbox[0])

    weak = client.post(link, {"new_password1": "123", "new_password2": "123"})
    differ = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})

    assert weak.status_code == 400 and "too short" in page_text(weak)
    assert differ.status_code == 400 and "The two passwords differ" in page_text(differ)
    assert not User.objects.filter(email="nina@example.net").exists()


def test_errors_keep_what_was_typed(client, desk):
    response = client.post(REGISTER, {"name": "Nina <b>North</b>", "email": "nina@"})

    assert response.status_code == 400
    html = page_text(response)
    assert "Enter a valid email address." in html
    assert 'value="Nina &lt;b&gt;North&lt;/b&gt;"' in html and 'value="nina@"' in html
    assert_accessible_page(response)


@pytest.mark.parametrize("mode", [Registration.DISABLED, Registration.PRIVATE])
def test_closed_registration_says_so_and_refuses_sign_ups(client, desk, mailoutbox, mode):
    PortalSettings(registration=mode).save()

    page = client.get(REGISTER)
    posted = client.post(REGISTER, {"name": "Nina", "email": "nina@example.net"})

    assert page.status_code == 200 and "Signing up is not available" in page_text(page)
    assert ("created by the help desk" in page_text(page)) == (mode == Registration.PRIVATE)
    assert posted.status_code == 403 and mailoutbox == []
    assert "Create an account" not in page_text(client.get(reverse("portal:login")))


def test_a_link_mailed_before_registration_closed_no_longer_works(client, desk, mailoutbox):
    _register(client)
    PortalSettings(registration=Registration.PRIVATE).save()

    response = client.post(_link(mailoutbox[0]), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 403
    assert not User.objects.filter(email="nina@example.net").exists()


def test_sign_in_page_offers_sign_up_when_public(client, desk):
    assert "Create an account" in page_text(client.get(reverse("portal:login")))


def test_sign_up_needs_the_csrf_token(desk, mailoutbox):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(REGISTER, {"name": "Nina", "email": "nina@example.net"})

    assert response.status_code == 403
    assert mailoutbox == []


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client, desk, mailoutbox):
    url = reverse("portal:password_reset")
    known = client.post(url, {"email": "ken@example.com"}, follow=True)
    unknown = client.post(url, {"email": "nobody@example.org"}, follow=True)

    assert known.redirect_chain == unknown.redirect_chain
    assert comparable(known) == comparable(unknown)
    assert [m.to for m in mailoutbox] == [["ken@example.com"]]
