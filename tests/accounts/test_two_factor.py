"""Agents add an authenticator app from their profile; the workspace and the admin then ask for
its code after the password, and the administrators' policy can require one."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tessera.accounts.models import TwoFactorPolicy

from .helpers import app_code, secret_on_page

SETUP = reverse("accounts:two_factor")
VERIFY = reverse("accounts:two_factor_verify")
CODES = reverse("accounts:recovery_codes")


def enrol(client: Client) -> tuple[str, list[str]]:
    """Set up an app through the pages; returns its secret and the recovery codes shown."""
    secret = secret_on_page(client.get(SETUP).content.decode())
    response = client.post(SETUP, {"action": "confirm", "code": app_code(secret)}, follow=True)
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", response.content.decode())
    return secret, codes


def password_sign_in(who, password: str, page: str = "staff:login") -> Client:
    client = Client()
    client.post(reverse(page), {"username": who.email, "password": password})
    assert SESSION_KEY in client.session
    return client


@pytest.fixture
def john_enrolled(client, desk):
    client.force_login(desk.john.user)
    secret, codes = enrol(client)
    client.logout()
    return secret, codes


def test_the_profile_offers_two_factor_set_up(client, desk):
    client.force_login(desk.john.user)
    html = client.get(reverse("staff:profile")).content.decode()

    assert "Off: your password alone signs you in." in html
    assert f'href="{SETUP}"' in html


def test_set_up_shows_a_qr_code_and_the_secret_and_needs_a_working_code(client, desk):
    client.force_login(desk.john.user)
    page = client.get(SETUP).content.decode()
    secret = secret_on_page(page)
    assert re.search(r'<svg[^>]*class="segno"', page)
    assert "<script" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]

    wrong = client.post(SETUP, {"action": "confirm", "code": "000000" if app_code(secret) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert "That code does not match." in wrong.content.decode()
    assert secret_on_page(wrong.content.decode()) == secret  # the same secret, still to confirm
    assert not TOTPDevice.objects.filter(user=desk.john.user, confirmed=True).exists()
    # django-otp makes the next try wait (1 s, then 2, 4…) after a wrong code: let that second pass.
    TOTPDevice.objects.filter(user=desk.john.user).update(
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=2)
    )

    done = client.post(SETUP, {"action": "confirm", "code": app_code(secret)}, follow=True)

    html = done.content.decode()
    assert "Two-factor authentication is on" in html
    assert len(re.findall(r"<li><code>[a-z0-9]{5}-[a-z0-9]{5}</code></li>", html)) == 10
    assert TOTPDevice.objects.get(user=desk.john.user).confirmed
    assert "shown only now" not in client.get(CODES).content.decode()  # codes are shown once


def test_sign_in_asks_for_the_code_after_the_password(desk, john_enrolled):
    secret, _codes = john_enrolled
    john = password_sign_in(desk.john.user, desk.password)

    gated = john.get(reverse("staff:dashboard"))
    assert gated.status_code == 302
    assert gated.url.startswith(VERIFY)
    assert john.get(reverse("staff:profile")).status_code == 302

    response = john.post(VERIFY, {"code": app_code(secret, steps_ahead=1), "next": "/staff/"})
    assert response.status_code == 302
    assert response.url == "/staff/"
    assert john.get(reverse("staff:dashboard")).status_code == 200


def test_a_wrong_code_is_refused_and_the_workspace_stays_closed(desk, john_enrolled):
    john = password_sign_in(desk.john.user, desk.password)

    wrong = john.post(VERIFY, {"code": "12345", "next": "/staff/"})

    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    assert john.get(reverse("staff:dashboard")).url.startswith(VERIFY)


def test_the_verify_page_does_not_send_people_off_site(desk, john_enrolled):
    secret, _codes = john_enrolled
    john = password_sign_in(desk.john.user, desk.password)

    response = john.post(VERIFY, {"code": app_code(secret, steps_ahead=1), "next": "https://evil.example/"})

    assert response.url == reverse("staff:dashboard")


def test_a_recovery_code_works_once(desk, john_enrolled):
    _secret, codes = john_enrolled
    john = password_sign_in(desk.john.user, desk.password)

    assert john.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert john.get(reverse("staff:dashboard")).status_code == 200
    assert StaticToken.objects.filter(device__user=desk.john.user).count() == 9

    again = password_sign_in(desk.john.user, desk.password)
    refused = again.post(VERIFY, {"code": codes[0]})
    assert refused.status_code == 400
    assert again.get(reverse("staff:dashboard")).status_code == 302


def test_wrong_codes_lock_the_account_out_like_wrong_passwords(desk, john_enrolled):
    secret, _codes = john_enrolled
    john = password_sign_in(desk.john.user, desk.password)
    for guess in ("100000", "200000", "300000", "400000", "500000"):
        john.post(VERIFY, {"code": guess})

    refused = john.post(VERIFY, {"code": app_code(secret, steps_ahead=1)})

    assert refused.status_code == 429
    assert "Too many attempts" in refused.content.decode()
    assert john.get(reverse("staff:dashboard")).status_code == 302


def test_the_admin_asks_for_the_code_too(client, desk):
    client.force_login(desk.admin)
    secret, _codes = enrol(client)
    admin = password_sign_in(desk.admin, desk.password, page="admin:login")

    gated = admin.get(reverse("admin:index"))
    assert gated.url.startswith(VERIFY)

    admin.post(VERIFY, {"code": app_code(secret, steps_ahead=1)})
    assert admin.get(reverse("admin:index")).status_code == 200


def test_a_password_alone_cannot_add_or_remove_apps_once_enrolled(desk, john_enrolled):
    john = password_sign_in(desk.john.user, desk.password)
    device = TOTPDevice.objects.get(user=desk.john.user)

    assert john.get(SETUP).url.startswith(VERIFY)
    john.post(SETUP, {"action": "remove", "device": device.persistent_id})
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert john.post(CODES).status_code == 302
    assert StaticToken.objects.filter(device__user=desk.john.user).count() == 10


def test_nobody_removes_another_agents_app(client, desk, john_enrolled):
    device = TOTPDevice.objects.get(user=desk.john.user)
    client.force_login(desk.jane.user)

    client.post(SETUP, {"action": "remove", "device": device.persistent_id})

    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_removing_the_app_also_removes_the_recovery_codes(client, desk):
    client.force_login(desk.john.user)
    enrol(client)
    device = TOTPDevice.objects.get(user=desk.john.user, confirmed=True)

    client.post(SETUP, {"action": "remove", "device": device.persistent_id})

    assert not TOTPDevice.objects.filter(user=desk.john.user, confirmed=True).exists()
    assert not StaticToken.objects.filter(device__user=desk.john.user).exists()
    assert client.get(reverse("staff:dashboard")).status_code == 200


def test_new_recovery_codes_replace_the_old_ones(client, desk):
    client.force_login(desk.john.user)
    _secret, old = enrol(client)

    new = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", client.post(CODES, follow=True).content.decode())

    assert len(new) == 10 and not set(new) & set(old)
    assert StaticToken.objects.filter(device__user=desk.john.user).count() == 10


def test_end_users_have_no_two_factor_pages(client, desk):
    client.force_login(desk.ken)
    assert client.get(SETUP).status_code == 403


def set_policy(required_for: str) -> None:
    from tessera.accounts import twofactor

    policy = twofactor.policy()
    policy.required_for = required_for
    policy.save()


def test_when_required_for_agents_an_agent_without_an_app_can_only_set_one_up(client, desk, ken_ticket):
    set_policy(TwoFactorPolicy.Required.AGENTS)
    client.force_login(desk.john.user)

    for url in (
        reverse("staff:dashboard"),
        reverse("staff:ticket", args=[ken_ticket.number]),
        reverse("staff:profile"),
        reverse("admin:index"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(SETUP), url
    blocked_post = client.post(reverse("staff:ticket_action", args=[ken_ticket.number, "claim"]), {"claim-version": 1})
    assert blocked_post.url.startswith(SETUP)
    ken_ticket.refresh_from_db()
    assert ken_ticket.assignee_id is None
    assert "requires a second factor" in client.get(SETUP).content.decode()

    enrol(client)
    assert client.get(reverse("staff:dashboard")).status_code == 200


def test_when_required_for_agents_signing_out_still_works(client, desk):
    set_policy(TwoFactorPolicy.Required.AGENTS)
    client.force_login(desk.john.user)

    client.post(reverse("staff:logout"))

    assert SESSION_KEY not in client.session


def test_when_required_for_administrators_agents_pass_and_administrators_set_one_up(client, desk):
    set_policy(TwoFactorPolicy.Required.ADMINS)
    client.force_login(desk.john.user)
    assert client.get(reverse("staff:dashboard")).status_code == 200

    client.force_login(desk.admin)
    assert client.get(reverse("admin:index")).url.startswith(SETUP)


def test_an_administrator_changes_the_policy_in_the_admin(client, desk):
    client.force_login(desk.admin)
    listing = client.get(reverse("admin:accounts_twofactorpolicy_changelist"))
    assert listing.status_code == 302

    client.post(listing.url, {"required_for": "agents"})

    assert TwoFactorPolicy.objects.get().required_for == "agents"
    john = Client()
    john.force_login(desk.john.user)
    assert john.get(reverse("staff:dashboard")).url.startswith(SETUP)
