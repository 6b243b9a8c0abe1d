"""Passkeys are a second factor for agents and administrators, offered only where browsers allow them.
(The ceremony itself runs in Chromium: tests/e2e/test_two_factor.py.)"""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_static.models import StaticDevice

from django.template.loader import get_template
from django.urls import reverse

BEGIN = reverse("otp_webauthn:credential-registration-begin")
AUTH_BEGIN = reverse("otp_webauthn:credential-authentication-begin")


@pytest.fixture
def https_desk(settings):
    settings.TESSERA = {**settings.TESSERA, "BASE_URL": "https://help.example.com"}


def test_an_agent_gets_registration_options_for_the_desks_own_domain(client, desk, https_desk):
    client.force_login(desk.john.user)

    response = client.post(BEGIN, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["rp"]["id"] == "help.example.com"


def test_end_users_cannot_register_passkeys(client, desk, https_desk):
    client.force_login(desk.ken)

    response = client.post(BEGIN, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


def test_nobody_signs_in_with_a_passkey_alone(client, desk, https_desk):
    response = client.post(AUTH_BEGIN, content_type="application/json")

    assert response.status_code == 403


def test_a_password_alone_cannot_add_a_passkey_once_enrolled(client, desk, https_desk):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=desk.john.user, name="Authenticator app", confirmed=True)
    client.post(reverse("staff:login"), {"username": "john@example.com", "password": desk.password})

    response = client.post(BEGIN, content_type="application/json")

    assert response.status_code == 403


def test_on_a_plain_http_ip_address_passkeys_are_explained_not_offered(client, desk, settings):
    settings.TESSERA = {**settings.TESSERA, "BASE_URL": "http://127.0.0.1:8000"}
    client.force_login(desk.john.user)

    page = client.get(reverse("accounts:two_factor")).content.decode()

    assert "Passkeys need the help desk to be served over HTTPS" in page
    assert "passkey-register-button" not in page
    assert client.post(BEGIN, content_type="application/json").status_code == 403


def test_removing_something_that_is_not_an_app_or_passkey_is_refused(client, desk):
    client.force_login(desk.john.user)
    codes = StaticDevice.objects.create(user=desk.john.user, name="Recovery codes", confirmed=True)
    setup = reverse("accounts:two_factor")

    for bogus in (codes.persistent_id, "nonsense", "otp_totp.totpdevice/999999", "x" * 5000, ""):
        response = client.post(setup, {"action": "remove", "device": bogus}, follow=True)
        assert response.status_code == 200
        assert "That device is not yours or is already removed." in response.content.decode()

    assert StaticDevice.objects.filter(pk=codes.pk).exists()


def test_an_administrator_can_remove_a_lost_passkey(client, desk):
    from django_otp_webauthn.models import WebAuthnCredential

    passkey = WebAuthnCredential.objects.create(
        user=desk.john.user, name="John's phone", credential_id=b"\x01" * 16, public_key=b"\x02", confirmed=True
    )
    client.force_login(desk.admin)

    listing = client.get(reverse("admin:django_otp_webauthn_webauthncredential_changelist"))
    assert "John&#x27;s phone" in listing.content.decode()
    client.post(reverse("admin:django_otp_webauthn_webauthncredential_delete", args=[passkey.pk]), {"post": "yes"})

    assert not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()


@pytest.mark.parametrize("kind", ["auth", "register"])
def test_the_passkey_script_never_runs_before_its_translations(kind):
    """The library's own template loads the catalog "async": on a busy machine the passkey
    script ran first and its button died on "gettext is not defined". Deferred scripts run in
    document order, so the catalog must be deferred, never async, and come first."""
    html = get_template(f"django_otp_webauthn/{kind}_scripts.html").render({"configuration": {}})
    catalog = re.search(r"<script[^>]*jsi18n[^>]*>|<script[^>]*i18n[^>]*>", html)
    assert catalog is not None and " defer" in catalog.group(0) and "async" not in catalog.group(0)
    assert html.index(catalog.group(0)) < html.index(f"otp_webauthn_{kind}.js")
