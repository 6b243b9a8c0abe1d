"""A subscription cannot aim the desk at itself or its network: the URL is checked when it is
saved and again, resolved afresh, before every delivery (DNS rebinding)."""

from __future__ import annotations

import socket

import pytest

from django.core.exceptions import ValidationError
from django.urls import reverse

from tessera.tickets import services
from tessera.webhooks import addresses
from tessera.webhooks.models import Delivery, DeliveryStatus, Subscription


@pytest.fixture
def no_private(settings):
    """The shipped defaults: no private address allowed, not even the tests' receiver."""
    settings.TESSERA = {**settings.TESSERA, "WEBHOOK_ALLOWED_NETWORKS": [], "WEBHOOK_ALLOW_PRIVATE": False}


@pytest.fixture
def public_dns(monkeypatch):
    """Names resolve as the table says (the tests run offline)."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in table:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in table[host]]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return table


def refused(url: str) -> str:
    with pytest.raises(ValidationError) as caught:
        addresses.validate_url(url)
    return caught.value.code or ""


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://127.1/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://10.0.0.5/hook",
        "http://172.16.3.4/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://100.64.0.1/hook",  # shared address space
        "http://224.0.0.1/hook",  # multicast
        "http://240.0.0.1/hook",  # reserved
        "http://[fe80::1]/hook",
        "http://[fc00::1]/hook",
    ],
)
def test_private_loopback_link_local_and_reserved_addresses_are_refused(no_private, url):
    assert refused(url) == "address"


def test_a_name_that_resolves_to_loopback_is_refused(no_private):
    assert refused("http://localhost:8080/hook") == "address"


def test_a_name_resolving_to_a_public_and_a_private_address_is_refused(no_private, public_dns):
    public_dns["hooks.example.com"] = ["93.184.216.34", "10.0.0.7"]
    assert refused("https://hooks.example.com/in") == "address"
    public_dns["hooks.example.com"] = ["93.184.216.34"]
    addresses.validate_url("https://hooks.example.com/in")  # a public address only: fine


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "file:///etc/passwd", "gopher://x/", "javascript:alert(1)"])
def test_only_http_and_https_are_accepted(url):
    assert refused(url) == "scheme"


@pytest.mark.parametrize(
    "url", ["https://user:secret@hooks.example.com/", "https://token@hooks.example.com/", "http://:pw@1.2.3.4/"]
)
def test_credentials_in_the_url_are_refused(url):
    assert refused(url) == "credentials"


def test_the_settings_can_allow_a_network_or_every_private_address(settings, no_private):
    settings.TESSERA = {**settings.TESSERA, "WEBHOOK_ALLOWED_NETWORKS": ["10.1.2.0/24"]}
    addresses.validate_url("http://10.1.2.3/hook")
    assert refused("http://10.1.3.3/hook") == "address"
    settings.TESSERA = {**settings.TESSERA, "WEBHOOK_ALLOWED_NETWORKS": [], "WEBHOOK_ALLOW_PRIVATE": True}
    addresses.validate_url("http://10.1.3.3/hook")
    addresses.validate_url("http://localhost/hook")
    assert refused("http://224.0.0.1/hook") == "address"  # multicast never


def test_the_admin_form_explains_a_refused_url(desk, client, no_private):
    client.force_login(desk.admin)
    response = client.post(
        reverse("admin:webhooks_subscription_add"),
        {"name": "Intranet", "url": "http://192.168.0.10/hook", "events": ["ticket.created"], "owner": desk.admin.pk,
         "state": "active"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "private, loopback, link-local or reserved" in response.content.decode()
    assert not Subscription.objects.exists()


def test_a_name_rebound_to_an_inside_address_after_saving_is_not_contacted(
    desk, receiver, subscribe, committed, public_dns, settings
):
    """Saved while the name pointed at an allowed address; by delivery time it points inside."""
    public_dns["hooks.example.com"] = ["127.0.0.1"]
    subscribe(f"http://hooks.example.com:{receiver.port}/in")  # allowed: 127.0.0.1/32 (conftest)
    settings.TESSERA = {**settings.TESSERA, "WEBHOOK_ALLOWED_NETWORKS": []}  # now the same address is inside
    committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Printer", message="Jams.", topic=desk.general
    )
    assert receiver.received == []
    sent = Delivery.objects.get()
    assert sent.status == DeliveryStatus.PENDING
    assert "resolves to 127.0.0.1" in sent.last_error


def test_the_request_goes_to_the_checked_address_with_the_name_in_its_host_header(
    desk, receiver, subscribe, committed, public_dns
):
    public_dns["hooks.example.com"] = ["127.0.0.1"]
    subscribe(f"http://hooks.example.com:{receiver.port}/in")
    committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Printer", message="Jams.", topic=desk.general
    )
    [request] = receiver.taken
    assert request.headers["Host"] == f"hooks.example.com:{receiver.port}"


def test_a_redirect_is_not_followed(desk, receiver, subscribe, committed):
    subscribe(receiver.url)
    receiver.plan = [302]
    committed(
        services.open_ticket, desk.ken, requester=desk.ken, subject="Printer", message="Jams.", topic=desk.general
    )
    assert len(receiver.received) == 1
    sent = Delivery.objects.get()
    assert (sent.status, sent.last_response_code) == (DeliveryStatus.PENDING, 302)
