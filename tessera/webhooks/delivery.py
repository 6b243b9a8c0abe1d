"""Sending deliveries: in order per ticket, signed, retried with a doubling wait, logged.

One (subscription, ticket) queue is sent by `send_queue`: its first waiting delivery (lowest
sequence, i.e. earliest in the ticket's history) goes once it is WEBHOOK_SETTLE_SECONDS old
(until then the queue is handed to the worker again for that moment, or, on a backend that
cannot defer, to the periodic job). It is claimed with a conditional UPDATE (so two workers
never send the same one, nor two of one queue at once), sent, and only once it was delivered
or given up does the next one go. A failure leaves the queue waiting for its retry time; `run`,
the periodic job, hands due queues back to the worker. Every attempt is an `Attempt` row
(response code, milliseconds, error).

The connection goes to the address `addresses.resolve` checked just now, never to the name
(DNS rebinding), with short connect and read timeouts, no redirects followed (a 3xx is a
failure) and at most WEBHOOK_MAX_RESPONSE_BYTES of the answer read.

After WEBHOOK_PAUSE_AFTER_FAILURES failed attempts in a row the subscription pauses itself
and its owner gets an email; deliveries wait, kept, until an administrator resumes it.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tessera.i18n.languages import language_of
from tessera.mail.message import GuardedEmail  # every mail the desk sends is built with it
from tessera.single_line import single_line

from . import addresses, conf, services, signing
from .addresses import Target
from .models import Attempt, Delivery, DeliveryStatus, Subscription, SubscriptionState

log = logging.getLogger(__name__)

USER_AGENT = "Tessera-Webhooks/1"


# ---------------------------------------------------------------------------- HTTP, pinned


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the checked address; the name still goes in the Host header."""

    def __init__(self, target: Target) -> None:
        super().__init__(target.host, target.port, timeout=float(conf.get("WEBHOOK_CONNECT_TIMEOUT")))
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), timeout=self.timeout)
        self.sock.settimeout(float(conf.get("WEBHOOK_READ_TIMEOUT")))


class _PinnedHTTPS(http.client.HTTPSConnection):
    """The same over TLS: the certificate is checked against the name (SNI too)."""

    def __init__(self, target: Target) -> None:
        super().__init__(target.host, target.port, timeout=float(conf.get("WEBHOOK_CONNECT_TIMEOUT")))
        self.address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), timeout=self.timeout)
        sock.settimeout(float(conf.get("WEBHOOK_READ_TIMEOUT")))
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status code. ValidationError: the address is not allowed (now)."""
    target = addresses.resolve(url)
    connection = _PinnedHTTPS(target) if target.scheme == "https" else _PinnedHTTP(target)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        response = connection.getresponse()
        response.read(int(conf.get("WEBHOOK_MAX_RESPONSE_BYTES")))
        return response.status
    finally:
        connection.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    if isinstance(exc, TimeoutError | socket.timeout):
        return _("No answer in time.")
    return f"{type(exc).__name__}: {exc}"[:500]


# ---------------------------------------------------------------------------- one attempt


def body_of(delivery: Delivery) -> bytes:
    """The exact bytes sent (and signed): the delivery id first, then the stored payload."""
    return json.dumps({"id": str(delivery.uid), **delivery.payload}, separators=(",", ":")).encode()


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: RETRY_SECONDS · 2^(n-1), at most RETRY_MAX_SECONDS."""
    seconds = int(conf.get("WEBHOOK_RETRY_SECONDS")) * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, int(conf.get("WEBHOOK_RETRY_MAX_SECONDS"))))


def attempt(delivery: Delivery, subscription: Subscription, now: datetime) -> bool:
    """Send once and record what happened; True when the receiver took it (2xx)."""
    body = body_of(delivery)
    timestamp = int(now.timestamp())
    headers = signing.headers(subscription.secret, str(delivery.uid), delivery.event, timestamp, body)
    code: int | None = None
    error = ""
    started = time.monotonic()
    try:
        code = post(subscription.url, body, headers)
    except (ValidationError, OSError, http.client.HTTPException) as exc:
        error = _describe(exc)
    duration_ms = int((time.monotonic() - started) * 1000)
    delivered = code is not None and 200 <= code < 300
    if code is not None and not delivered:
        error = _("The receiver answered %(code)d.") % {"code": code}
    log.info(
        "Webhook %s %s to subscription %s: %s in %d ms",
        delivery.event,
        delivery.uid,
        subscription.pk,
        code if code is not None else error,
        duration_ms,
    )
    with transaction.atomic():
        Attempt.objects.create(delivery=delivery, at=now, response_code=code, duration_ms=duration_ms, error=error)
        delivery.attempts += 1
        delivery.last_response_code = code
        delivery.last_duration_ms = duration_ms
        delivery.last_error = error[:500]
        delivery.claimed_until = None
        if delivered:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            Subscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
        else:
            if delivery.attempts >= int(conf.get("WEBHOOK_ATTEMPTS")):
                delivery.status = DeliveryStatus.FAILED  # given up: the next in its queue goes
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            _count_failure(subscription, error, now)
        delivery.save(
            update_fields=[
                "attempts",
                "last_response_code",
                "last_duration_ms",
                "last_error",
                "claimed_until",
                "status",
                "delivered_at",
                "next_attempt_at",
            ]
        )
    return delivered


def _count_failure(subscription: Subscription, error: str, now: datetime) -> None:
    Subscription.objects.filter(pk=subscription.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    failures = Subscription.objects.values_list("consecutive_failures", flat=True).get(pk=subscription.pk)
    limit = int(conf.get("WEBHOOK_PAUSE_AFTER_FAILURES"))
    if failures < limit:
        return
    reason = _("%(n)d failed attempts in a row; the last: %(error)s") % {"n": failures, "error": error}
    if services.pause(subscription, reason, now=now):
        subscription_id = subscription.pk
        transaction.on_commit(lambda: _tell_owner_later(subscription_id), robust=True)


# ---------------------------------------------------------------------------- queues


def _claim_window() -> timedelta:
    seconds = float(conf.get("WEBHOOK_CONNECT_TIMEOUT")) + float(conf.get("WEBHOOK_READ_TIMEOUT"))
    return timedelta(seconds=seconds + 30)


def send_queue(subscription_id: int, ticket_id: int, *, now: datetime | None = None) -> int:
    """Send what is due in one queue, oldest first, until one fails or nothing is due; how many
    were delivered."""
    delivered = 0
    while True:
        moment = now or timezone.now()
        subscription = Subscription.objects.filter(pk=subscription_id, state=SubscriptionState.ACTIVE).first()
        if subscription is None:
            return delivered
        head = (
            Delivery.objects.filter(subscription_id=subscription_id, ticket_id=ticket_id, status=DeliveryStatus.PENDING)
            .order_by("sequence")
            .first()
        )
        if head is None:
            return delivered
        due_at = max(head.next_attempt_at or head.created_at, head.created_at + services.settle_window())
        if due_at > moment:
            if not head.attempts:
                # Written a moment ago: an earlier change's delivery may still be on its way.
                schedule(subscription_id, ticket_id, now=now, at=due_at)
            return delivered  # a retry waits for run(), the periodic job
        claimed = (
            Delivery.objects.filter(pk=head.pk, status=DeliveryStatus.PENDING, attempts=head.attempts)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=moment))
            .update(claimed_until=moment + _claim_window())
        )
        if not claimed:  # another worker is sending this queue's head
            return delivered
        if attempt(head, subscription, moment):
            delivered += 1
        elif head.status == DeliveryStatus.PENDING:
            return delivered  # waits for its retry; the later ones wait behind it


@task()
def send(subscription_id: int, ticket_id: int, now: str | None = None) -> int:
    return send_queue(subscription_id, ticket_id, now=datetime.fromisoformat(now) if now else None)


def can_defer() -> bool:
    return bool(getattr(send.get_backend(), "supports_defer", False))


def schedule(subscription_id: int, ticket_id: int, *, now: datetime | None = None, at: datetime | None = None) -> None:
    """Hand a queue to the worker, now or at `at` (when its head settles). A backend that cannot
    defer is not handed a queue that is not due: the periodic job (`run`) hands it over once
    its head's next_attempt_at, which includes the settle window, has come."""
    try:
        if at is not None and at > (now or timezone.now()):
            if can_defer():
                send.using(run_after=at).enqueue(subscription_id, ticket_id, at.isoformat() if now else None)
            return
        send.enqueue(subscription_id, ticket_id, now.isoformat() if now else None)
    except Exception:
        # The rows are written; the periodic job picks the queue up within a minute.
        log.exception("Could not queue webhook deliveries of subscription %s", subscription_id)


def run(now: datetime | None = None) -> int:
    """The periodic job: hand every queue with a delivery due to the worker."""
    moment = now or timezone.now()
    due = (
        Delivery.objects.filter(
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=moment,
            subscription__state=SubscriptionState.ACTIVE,
        )
        .order_by()
        .values_list("subscription_id", "ticket_id")
        .distinct()[:1000]
    )
    queues = list(due)
    for subscription_id, ticket_id in queues:
        schedule(subscription_id, ticket_id, now=now)
    return len(queues)


# ---------------------------------------------------------------------------- the owner's mail


def _tell_owner_later(subscription_id: int) -> None:
    try:
        tell_owner.enqueue(subscription_id)
    except Exception:
        log.exception("Could not queue the pause notice of webhook subscription %s", subscription_id)


@task()
def tell_owner(subscription_id: int) -> bool:
    """Email the owner that their subscription paused itself, why, and where to resume it."""
    subscription = Subscription.objects.select_related("owner").filter(pk=subscription_id).first()
    if subscription is None or subscription.state != SubscriptionState.PAUSED or not subscription.owner.is_active:
        return False
    base = str(settings.TESSERA["BASE_URL"]).rstrip("/")
    context = {
        "subscription": subscription,
        "owner": subscription.owner,
        "link": base + reverse("admin:webhooks_subscription_change", args=[subscription.pk]),
    }
    with translation.override(language_of(subscription.owner)):
        subject = single_line(render_to_string("webhooks/paused_subject.txt", context))
        text = render_to_string("webhooks/paused.txt", context)
    message = GuardedEmail(
        subject=subject,
        body=text,
        from_email=str(settings.DEFAULT_FROM_EMAIL),
        to=[subscription.owner.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.send()
    return True
