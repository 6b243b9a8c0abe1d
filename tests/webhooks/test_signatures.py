"""A receiver can prove each delivery came from the desk, and refuse one played again later."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tessera.tickets import services
from tessera.webhooks import signing
from tessera.webhooks.models import Delivery

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def docs_verify():
    """The receiver's check exactly as docs/api.md ("Webhooks") prints it."""
    code = re.search(r"```python\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert code is not None
    scope: dict = {}
    exec(code.group(1), scope)  # noqa: S102  the documented snippet, from this repository
    return scope["verify"]


def open_ticket(desk):
    return services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="Page two.", topic=desk.general
    )


def test_each_delivery_is_signed_with_its_subscriptions_secret(desk, receiver, subscribe, committed):
    subscription = subscribe(receiver.url)
    committed(open_ticket, desk)
    [request] = receiver.received
    verify = docs_verify()
    headers = request.headers
    assert verify(
        subscription.secret, headers["Tessera-Webhook-Timestamp"], headers["Tessera-Webhook-Signature"], request.body
    )
    assert headers["Tessera-Webhook-Signature"].startswith("v1=")
    assert headers["Tessera-Webhook-Event"] == "ticket.created"
    assert headers["Content-Type"] == "application/json"
    # The id in the header is the one inside the signed body, and the delivery's own.
    assert headers["Tessera-Webhook-Id"] == request.json["id"] == str(Delivery.objects.get().uid)
    assert request.path == "/hooks/tessera?from=desk"


def test_a_forged_or_altered_delivery_fails_the_check(desk, receiver, subscribe, committed):
    subscription = subscribe(receiver.url)
    committed(open_ticket, desk)
    [request] = receiver.received
    verify = docs_verify()
    stamp, sig = request.headers["Tessera-Webhook-Timestamp"], request.headers["Tessera-Webhook-Signature"]
    assert not verify("whsec_someone-else", stamp, sig, request.body)
    assert not verify(subscription.secret, stamp, sig, request.body.replace(b"Printer", b"Scanner"))
    assert not verify(subscription.secret, str(int(stamp) + 1), sig, request.body)
    assert not verify(subscription.secret, "not-a-number", sig, request.body)


def test_a_recorded_delivery_played_again_after_the_tolerance_is_refused(desk, receiver, subscribe, committed):
    subscription = subscribe(receiver.url)
    committed(open_ticket, desk)
    [request] = receiver.received
    stamp, sig = request.headers["Tessera-Webhook-Timestamp"], request.headers["Tessera-Webhook-Signature"]
    verify = docs_verify()
    assert verify(subscription.secret, stamp, sig, request.body)
    later = int(stamp) + 301  # from the stamp, not the clock: a busy machine must not change the answer
    assert not signing.verify(subscription.secret, stamp, sig, request.body, now=later)
    assert signing.verify(subscription.secret, stamp, sig, request.body, now=later - 2)


def test_a_new_secret_signs_from_then_on(desk, receiver, subscribe, committed):
    from tessera.webhooks.services import rotate_secret

    subscription = subscribe(receiver.url)
    old = subscription.secret
    new = rotate_secret(subscription)
    assert new != old and new.startswith("whsec_")
    committed(open_ticket, desk)
    [request] = receiver.received
    stamp, sig = request.headers["Tessera-Webhook-Timestamp"], request.headers["Tessera-Webhook-Signature"]
    assert signing.verify(new, stamp, sig, request.body, now=time.time())
    assert not signing.verify(old, stamp, sig, request.body, now=time.time())
