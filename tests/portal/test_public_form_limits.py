"""Abuse on the public forms: limits per address and per client answer 429 with the form as typed,
and the spam check (honeypot, minimum time to submit) refuses bots without losing input."""

from __future__ import annotations

import re
import time

import pytest

from django.core import signing
from django.urls import reverse

from tessera.portal import spam

from .helpers import page_text

REGISTER = reverse("portal:register")


def _sign_up(client, email="nina@example.net"):
    return client.post(REGISTER, {"name": "Nina North", "email": email})


def test_the_eleventh_sign_up_from_one_address_in_an_hour_is_refused(client, desk, mailoutbox):
    for _ in range(10):
        assert _sign_up(client).status_code == 302
    assert len(mailoutbox) == 10

    refused = _sign_up(client)

    assert refused.status_code == 429
    html = page_text(refused)
    assert "several times in a short while. Please try again in" in html
    assert 'value="Nina North"' in html and 'value="nina@example.net"' in html
    assert len(mailoutbox) == 10
    # Another address from elsewhere is not held back by Nina's count.
    assert (
        client.post(REGISTER, {"name": "Otto", "email": "otto@example.net"}, REMOTE_ADDR="10.0.0.9").status_code == 302
    )


def test_one_client_signing_up_many_addresses_is_limited(client, desk, settings):
    settings.TESSERA = {**settings.TESSERA, "REGISTER_LIMIT_PER_IP": 3}
    for n in range(3):
        assert client.post(REGISTER, {"name": "N", "email": f"n{n}@example.net"}).status_code == 302

    assert client.post(REGISTER, {"name": "N", "email": "n9@example.net"}).status_code == 429


PUBLIC_FORMS = {
    "new ticket": (reverse("portal:home"), {"name": "Nina North", "email": "nina@example.net", "subject": "Wifi down"}),
    "registration": (REGISTER, {"name": "Nina North", "email": "nina@example.net"}),
    "lost link": (reverse("portal:status"), {"email": "nina@example.net"}),
    "password reset": (reverse("portal:password_reset"), {"email": "nina@example.net"}),
}


def _data(desk, form: str) -> tuple[str, dict]:
    url, data = PUBLIC_FORMS[form]
    data = dict(data)
    if form == "new ticket":
        data.update({"topic": desk.general.pk, "message": "Since this morning."})
    return url, data


@pytest.mark.parametrize("form", PUBLIC_FORMS)
def test_a_filled_honeypot_is_refused_and_the_input_kept(client, desk, mailoutbox, form):
    url, data = _data(desk, form)

    response = client.post(url, {**data, spam.HONEYPOT: "http://spam.example"})

    assert response.status_code == 400
    html = page_text(response)
    assert "Please check your entries and send it again." in html
    assert 'value="nina@example.net"' in html
    assert mailoutbox == []


@pytest.mark.parametrize("form", PUBLIC_FORMS)
def test_a_form_sent_back_too_fast_asks_to_try_again_and_then_goes_through(client, desk, settings, mailoutbox, form):
    settings.PORTAL_MIN_SUBMIT_SECONDS = 3
    url, data = _data(desk, form)
    shown = client.get(url)
    stamp = re.search(r'name="started" value="([^"]+)"', page_text(shown)).group(1)

    too_fast = client.post(url, {**data, spam.STAMP: stamp})
    missing = client.post(url, data)

    for response in (too_fast, missing):
        assert response.status_code == 400
        html = page_text(response)
        assert "send it again" in html and 'value="nina@example.net"' in html
    # The page keeps the first stamp, so sending again after a moment succeeds.
    assert f'value="{stamp}"' in page_text(too_fast)
    earlier = signing.dumps(time.time() - 5, salt="tessera.portal.spam")
    assert client.post(url, {**data, spam.STAMP: earlier}).status_code == 302


def test_the_honeypot_is_hidden_from_people_and_their_tools(client, desk):
    html = page_text(client.get(REGISTER))
    hidden = re.search(r'<div class="visually-hidden" aria-hidden="true">.*?</div>', html, re.S).group(0)
    assert 'name="website"' in hidden and 'tabindex="-1"' in hidden and 'autocomplete="off"' in hidden
    assert '<label for="id_website">' in hidden


def test_a_forged_stamp_counts_as_no_stamp(client, desk, settings):
    settings.PORTAL_MIN_SUBMIT_SECONDS = 3
    forged = signing.dumps(time.time() - 60, salt="another salt")

    response = client.post(REGISTER, {"name": "N", "email": "n@example.net", spam.STAMP: forged})

    assert response.status_code == 400


def test_lost_link_and_password_reset_are_limited_per_address(client, desk, ken_ticket, mailoutbox):
    for url, limit in ((reverse("portal:status"), 5), (reverse("portal:password_reset"), 3)):
        for _ in range(limit):
            assert client.post(url, {"email": "ken@example.com"}).status_code == 302
        refused = client.post(url, {"email": "ken@example.com"})
        assert refused.status_code == 429, url
        assert "Too many attempts" in page_text(refused) and 'value="ken@example.com"' in page_text(refused)


def test_new_tickets_are_limited_per_address(client, desk):
    url, data = _data(desk, "new ticket")
    for _ in range(5):
        assert client.post(url, data).status_code == 302
    refused = client.post(url, data)
    assert refused.status_code == 429 and 'value="Wifi down"' in page_text(refused)
