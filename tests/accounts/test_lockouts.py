"""Guessing passwords, reset mails and ticket numbers runs into a lockout an administrator can lift."""

from __future__ import annotations

import re

import pytest

from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.urls import reverse

from tessera.accounts.models import Throttle
from tessera.accounts.signals import locked_out, lockout_lifted

LOCKED = "Too many attempts. For your security this is paused; try again in"
OTHER_ADDRESS = "198.51.100.7"

LOGIN_PAGES = [
    pytest.param("portal:login", lambda desk: desk.ken, id="portal"),
    pytest.param("staff:login", lambda desk: desk.john.user, id="workspace"),
    pytest.param("admin:login", lambda desk: desk.admin, id="admin"),
]


def sign_in(client, url_name: str, email: str, password: str, **extra):
    return client.post(reverse(url_name), {"username": email, "password": password}, **extra)


def comparable(html: str, email: str) -> str:
    """The page with what legitimately differs between two answers (typed address, nonces, tokens) masked."""
    html = html.replace(email, "EMAIL")
    return re.sub(r'(nonce|value)="[^"]*"', r'\1="…"', html)


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


@pytest.mark.parametrize(("url_name", "who"), LOGIN_PAGES)
def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, desk, url_name, who):
    email = who(desk).email
    for attempt in range(30):
        sign_in(client, url_name, email, f"guess-{attempt}")

    response = sign_in(client, url_name, email, desk.password)

    assert not signed_in(client)
    html = response.content.decode()
    assert LOCKED in html
    assert "15 minutes" in html
    assert f'value="{email}"' in html  # the form keeps what was typed


@pytest.mark.parametrize(("url_name", "who"), LOGIN_PAGES)
def test_a_lockout_reads_the_same_for_an_address_with_no_account(client, desk, url_name, who):
    for attempt in range(6):
        sign_in(client, url_name, who(desk).email, f"guess-{attempt}")
        sign_in(client, url_name, "nobody@example.com", f"guess-{attempt}", REMOTE_ADDR=OTHER_ADDRESS)

    known = sign_in(client, url_name, who(desk).email, "x").content.decode()
    unknown = sign_in(client, url_name, "nobody@example.com", "x", REMOTE_ADDR=OTHER_ADDRESS).content.decode()

    assert LOCKED in known and LOCKED in unknown
    assert comparable(known, who(desk).email) == comparable(unknown, "nobody@example.com")


def test_the_fifth_failure_locks_and_four_do_not(client, desk):
    for attempt in range(4):
        sign_in(client, "portal:login", "ken@example.com", f"guess-{attempt}")
    sign_in(client, "portal:login", "ken@example.com", desk.password)
    assert signed_in(client)


def test_a_correct_password_starts_the_account_count_again(client, desk):
    for _round in range(2):
        for attempt in range(4):
            sign_in(client, "portal:login", "ken@example.com", f"guess-{attempt}")
        sign_in(client, "portal:login", "ken@example.com", desk.password)
        assert signed_in(client)
        client.logout()


def test_a_locked_account_stays_locked_from_another_address(client, desk):
    for attempt in range(5):
        sign_in(client, "staff:login", "john@example.com", f"guess-{attempt}")

    response = sign_in(client, "staff:login", "john@example.com", desk.password, REMOTE_ADDR=OTHER_ADDRESS)

    assert LOCKED in response.content.decode()
    assert not signed_in(client)


def test_another_account_from_the_same_address_can_still_sign_in(client, desk):
    for attempt in range(5):
        sign_in(client, "staff:login", "john@example.com", f"guess-{attempt}")

    sign_in(client, "staff:login", "jane@example.com", desk.password)

    assert signed_in(client)


def test_an_address_spraying_many_accounts_is_locked_out_for_every_account(client, desk):
    for n in range(20):
        sign_in(client, "portal:login", f"victim{n}@example.com", "Winter2026!")

    refused = sign_in(client, "portal:login", "jane@example.com", desk.password)
    assert LOCKED in refused.content.decode()
    assert not signed_in(client)

    sign_in(client, "portal:login", "jane@example.com", desk.password, REMOTE_ADDR=OTHER_ADDRESS)
    assert signed_in(client)


def test_the_lockout_ends_by_itself(client, desk):
    for attempt in range(5):
        sign_in(client, "portal:login", "ken@example.com", f"guess-{attempt}")
    assert LOCKED in sign_in(client, "portal:login", "ken@example.com", desk.password).content.decode()

    from datetime import timedelta

    from django.utils import timezone

    Throttle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    sign_in(client, "portal:login", "ken@example.com", desk.password)
    assert signed_in(client)


def test_a_lockout_sends_one_signal_with_who_and_until(client, desk):
    received = []

    def record(sender, **kwargs):
        received.append(kwargs)

    locked_out.connect(record)
    try:
        for attempt in range(8):
            sign_in(client, "staff:login", "john@example.com", f"guess-{attempt}")
    finally:
        locked_out.disconnect(record)

    assert len(received) == 1
    assert received[0]["scope"] == "sign-in"
    assert received[0]["kind"] == "account"
    assert received[0]["key"] == "john@example.com"
    assert received[0]["request"].path == reverse("staff:login")
    assert received[0]["until"] > Throttle.objects.get(kind="account").window_started


def lock_out_john(client):
    for attempt in range(5):
        sign_in(client, "staff:login", "john@example.com", f"guess-{attempt}")


def test_an_administrator_lifts_a_lockout_in_the_admin(client, desk):
    from django.test import Client

    lock_out_john(client)
    lifted = []
    lockout_lifted.connect(lambda sender, **kw: lifted.append(kw), weak=False, dispatch_uid="test-lifted")
    admin = Client(REMOTE_ADDR=OTHER_ADDRESS)
    admin.force_login(desk.admin)
    listing = admin.get(reverse("admin:accounts_throttle_changelist") + "?locked=yes")
    assert "john@example.com" in listing.content.decode()

    rows = Throttle.objects.filter(key="john@example.com")
    response = admin.post(
        reverse("admin:accounts_throttle_changelist"),
        {"action": "lift", "_selected_action": [str(r.pk) for r in rows]},
        follow=True,
    )
    lockout_lifted.disconnect(dispatch_uid="test-lifted")

    assert "1 lockout lifted." in response.content.decode()
    assert lifted[0]["actor"] == desk.admin
    sign_in(client, "staff:login", "john@example.com", desk.password)
    assert signed_in(client)


def test_an_administrator_lifts_a_lockout_from_the_user_list(client, desk):
    from django.test import Client

    lock_out_john(client)
    admin = Client(REMOTE_ADDR=OTHER_ADDRESS)
    admin.force_login(desk.admin)
    admin.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "lift_sign_in_lockout", "_selected_action": [str(desk.john.user.pk)]},
    )

    sign_in(client, "staff:login", "john@example.com", desk.password)
    assert signed_in(client)


def test_the_lockouts_command_lists_and_lifts(client, desk, capsys):
    lock_out_john(client)

    call_command("lockouts")
    assert "john@example.com\taccount\tsign-in\tuntil " in capsys.readouterr().out

    call_command("lockouts", "--lift", "John@Example.com")
    assert "Lifted 1 lockout(s)." in capsys.readouterr().out
    sign_in(client, "staff:login", "john@example.com", desk.password)
    assert signed_in(client)

    call_command("lockouts")
    assert "Nobody is locked out." in capsys.readouterr().out


def test_users_without_admin_rights_cannot_see_or_lift_lockouts(client, desk):
    lock_out_john(client)
    client.force_login(desk.jane.user)
    response = client.get(reverse("admin:accounts_throttle_changelist"))
    assert response.status_code == 302  # to the admin sign-in
    assert Throttle.objects.filter(locked_until__isnull=False).exists()


# ---------------------------------------------------------------------------- password reset


def test_password_reset_mails_stop_after_three_per_address_in_an_hour(client, desk, mailoutbox):
    url = reverse("portal:password_reset")
    for _ in range(3):
        assert client.post(url, {"email": "ken@example.com"}).status_code == 302

    refused = client.post(url, {"email": "ken@example.com"}, REMOTE_ADDR=OTHER_ADDRESS)

    assert refused.status_code == 429
    assert LOCKED in refused.content.decode()
    assert 'value="ken@example.com"' in refused.content.decode()
    assert len(mailoutbox) == 3
    assert client.post(url, {"email": "mary@example.net"}).status_code == 302


def test_password_reset_refuses_an_address_asking_for_many_accounts(client, desk, mailoutbox):
    url = reverse("portal:password_reset")
    for n in range(10):
        client.post(url, {"email": f"someone{n}@example.com"})

    refused = client.post(url, {"email": "ken@example.com"})

    assert refused.status_code == 429
    assert mailoutbox == []


# ---------------------------------------------------------------------------- status lookup


def test_status_lookups_stop_after_five_guesses_for_one_address(client, desk, ken_ticket, mailoutbox):
    url = reverse("portal:status")
    for number in range(1000, 1005):
        assert client.post(url, {"email": "ken@example.com", "number": number}).status_code == 302

    refused = client.post(url, {"email": "ken@example.com", "number": ken_ticket.number}, REMOTE_ADDR=OTHER_ADDRESS)

    assert refused.status_code == 429
    assert LOCKED in refused.content.decode()
    assert mailoutbox == []


def test_status_lookups_stop_after_twenty_from_one_client(client, desk, ken_ticket, mailoutbox):
    url = reverse("portal:status")
    for n in range(20):
        client.post(url, {"email": f"guess{n}@example.com", "number": ken_ticket.number})

    refused = client.post(url, {"email": "ken@example.com", "number": ken_ticket.number})
    assert refused.status_code == 429
    assert mailoutbox == []

    allowed = client.post(url, {"email": "ken@example.com", "number": ken_ticket.number}, REMOTE_ADDR=OTHER_ADDRESS)
    assert allowed.status_code == 302
    assert len(mailoutbox) == 1
