"""Turning committed ticket changes into queued deliveries, and what administrators do to them.

`on_change` is the ticket core's listener (registered in WebhooksConfig.ready()): it runs after
the change committed, so a rolled-back change never reaches a receiver. It builds each payload
once, writes the Delivery rows in one transaction and hands each (subscription, ticket) queue
to the task worker. Which subscriptions exist is read from a per-process memo, forgotten
when this process saves one: a desk without webhooks pays one dictionary lookup per change.

Order: each ticket's deliveries are numbered by the change's place in the ticket's history, not
by when this listener got to them (two processes committing changes to one ticket a moment
apart may write their deliveries in either order). A change that moved the ticket to version v
numbers from v·1000; one that left the version as it was (an SLA alert) from v·1000+500, after
the change that made v and before the one that makes v+1. The sender waits until a queue's
head is WEBHOOK_SETTLE_SECONDS old (delivery.send_queue), so a delivery written a moment late
is in its place before the one after it goes. (Deliveries queued before this numbering have
small sequences, below any version's, so they still go first.)

A paused subscription still collects deliveries (they wait, in order, until it is resumed): a
receiver that keeps a copy of the desk's tickets would otherwise silently miss changes. A
subscription added in another process is seen within `process_memo.SECONDS`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from tessera import process_memo
from tessera.tickets.listeners import Batch, Written
from tessera.tickets.models import Event, Ticket

from . import conf, payloads
from .events import BY_ENTRY_KIND, BY_EVENT_KIND, WebhookEvent
from .models import Delivery, DeliveryStatus, Subscription, SubscriptionState, new_secret

log = logging.getLogger(__name__)

# Several rows of one change raising the same name are one delivery listing every change
# (an assignment to an agent and a team; a transfer that also releases the agent).
GATHERED = {
    WebhookEvent.TICKET_CREATED,
    WebhookEvent.TICKET_UPDATED,
    WebhookEvent.TICKET_ASSIGNED,
    WebhookEvent.TICKET_STATUS_CHANGED,
}


# Sequence numbers per ticket version: the first half for the change that made the version, the
# second for changes after it that did not bump it.
PER_VERSION = 1000
# Numbering races another process writing into the same queue: each retry reads again.
NUMBERING_TRIES = 10


@dataclass(frozen=True)
class Place:
    """The sequence numbers a change's deliveries may take in each of its ticket's queues."""

    first: int
    last: int


def place_of(version: int, moved: bool) -> Place:
    first = version * PER_VERSION + (0 if moved else PER_VERSION // 2)
    return Place(first, first + PER_VERSION // 2 - 1)


@process_memo.memo("webhooks.Subscription")
def subscriptions() -> tuple[tuple[int, frozenset[str]], ...]:
    """(id, events) of every subscription, active or paused, that wants any event."""
    rows = Subscription.objects.values_list("pk", "events")
    return tuple((pk, frozenset(events)) for pk, events in rows if events)


def wanted() -> bool:
    return bool(subscriptions())


@dataclass
class Planned:
    ticket_id: int
    event: WebhookEvent
    occurred_at: datetime
    changes: list[Event] = field(default_factory=list)
    written: Written | None = None


def plan(batch: Batch) -> list[Planned]:
    """The deliveries one committed change makes, in the order its rows were written."""
    planned: list[Planned] = []
    gathered: dict[tuple[int, str], Planned] = {}
    for item in batch.items:
        if isinstance(item, Written):
            name = BY_ENTRY_KIND.get(item.entry.kind)
            if name is None or item.opening:  # a new ticket's first message is in ticket.created
                continue
            planned.append(Planned(item.entry.ticket_id, name, item.entry.created_at, written=item))
            continue
        name = BY_EVENT_KIND.get(item.kind)
        if name is None:
            continue
        key = (item.ticket_id, name)
        if name in GATHERED and key in gathered:
            gathered[key].changes.append(item)
            continue
        step = Planned(item.ticket_id, name, item.created_at, changes=[item])
        planned.append(step)
        if name in GATHERED:
            gathered[key] = step
    return planned


def _payload(step: Planned, ticket: Ticket) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": str(step.event),
        "occurred_at": step.occurred_at.isoformat(),
        "ticket": payloads.ticket(ticket),
    }
    if step.written is not None:
        key = "note" if step.event == WebhookEvent.NOTE_CREATED else "message"
        body[key] = payloads.entry(step.written.entry)
    else:
        body["changes"] = [payloads.change(event) for event in step.changes]
    if step.event in (WebhookEvent.SLA_WARNING, WebhookEvent.SLA_BREACHED):
        data = step.changes[0].data
        body["sla"] = {"target": data.get("target"), "due_at": data.get("due_at")}
    return body


def on_change(batch: Batch) -> None:
    receivers_of = subscriptions()
    if not receivers_of:
        return
    steps = plan(batch)
    if not steps:
        return
    tickets = {
        t.pk: t
        for t in Ticket.objects.select_related(
            "user", "status", "priority", "department", "team", "topic", "assignee__user"
        ).filter(pk__in={s.ticket_id for s in steps})
    }
    rows: list[Delivery] = []
    for step in steps:
        ticket = tickets.get(step.ticket_id)
        if ticket is None:
            continue
        receivers = [pk for pk, events in receivers_of if step.event in events]
        if not receivers:
            continue
        payload = _payload(step, ticket)
        rows += [Delivery(subscription_id=pk, ticket=ticket, event=step.event, payload=payload) for pk in receivers]
    if rows:
        places: dict[int, Place] = {}
        for ticket_id in tickets:
            version = batch.version(ticket_id)
            if version is not None and version[0] > 0:
                places[ticket_id] = place_of(*version)
        queue(rows, places=places)


def settle_window() -> timedelta:
    return timedelta(seconds=float(conf.get("WEBHOOK_SETTLE_SECONDS")))


def queue(rows: list[Delivery], *, places: dict[int, Place] | None = None, now: datetime | None = None) -> None:
    """Number the rows (in their change's place in each queue, else at its end), write them, and
    hand each queue to the worker once its head has settled. Two processes numbering into the
    same place at once collide on the unique (subscription, ticket, sequence): the loser
    numbers again, so no delivery is lost to a collision."""
    moment = now or timezone.now()
    for attempt in range(NUMBERING_TRIES):
        try:
            with transaction.atomic():
                _number(rows, places or {})
                for row in rows:
                    row.created_at = moment
                    row.next_attempt_at = moment + settle_window()
                Delivery.objects.bulk_create(rows)
            break
        except IntegrityError:
            if attempt == NUMBERING_TRIES - 1:
                raise
            for row in rows:
                row.pk = None
    # local import: delivery imports this module's neighbours; the task is looked up when used
    from . import delivery

    for subscription_id, ticket_id in dict.fromkeys((r.subscription_id, r.ticket_id) for r in rows):
        delivery.schedule(subscription_id, ticket_id, now=now, at=moment + settle_window())


def _number(rows: list[Delivery], places: dict[int, Place]) -> None:
    """Rows of one change take consecutive numbers from their place's first free one; a row
    with no place (a redelivery), or whose place is full, goes after the queue's last."""
    counts: dict[tuple[int, int], int] = {}
    for row in rows:
        key = (row.subscription_id, row.ticket_id)
        counts[key] = counts.get(key, 0) + 1
    following: dict[tuple[int, int], int] = {}
    for (subscription_id, ticket_id), count in counts.items():
        place = places.get(ticket_id)
        highest: dict[str, Max] = {"end": Max("sequence")}
        if place is not None:
            highest["inside"] = Max("sequence", filter=Q(sequence__range=(place.first, place.last)))
        found = Delivery.objects.filter(subscription_id=subscription_id, ticket_id=ticket_id).aggregate(**highest)
        start = (found["end"] or 0) + 1
        if place is not None:
            first_free = max(place.first, (found["inside"] or 0) + 1)
            if first_free + count - 1 <= place.last:
                start = first_free
        following[(subscription_id, ticket_id)] = start
    for row in rows:
        key = (row.subscription_id, row.ticket_id)
        row.sequence = following[key]
        following[key] += 1


def redeliver(original: Delivery, *, now: datetime | None = None) -> Delivery:
    """Send a delivery's payload again, as a new delivery (its own id, so a receiver that drops
    repeats by id takes it) at the end of its ticket's queue."""
    copy = Delivery(
        subscription_id=original.subscription_id,
        ticket_id=original.ticket_id,
        event=original.event,
        payload=original.payload,
        redelivery_of=original.redelivery_of or original,
    )
    queue([copy], now=now)
    return copy


def resume(subscription: Subscription, *, now: datetime | None = None) -> None:
    """Active again, its failure count cleared; what waited while it was paused goes out now."""
    Subscription.objects.filter(pk=subscription.pk).update(
        state=SubscriptionState.ACTIVE, consecutive_failures=0, paused_at=None, pause_reason=""
    )
    # local import: see queue()
    from . import delivery

    waiting = (
        Delivery.objects.filter(subscription=subscription, status=DeliveryStatus.PENDING)
        .values_list("ticket_id", flat=True)
        .distinct()
    )
    for ticket_id in waiting:
        delivery.schedule(subscription.pk, ticket_id, now=now)


def pause(subscription: Subscription, reason: str, *, now: datetime | None = None) -> bool:
    """True when this call paused it (it was active)."""
    paused = Subscription.objects.filter(pk=subscription.pk, state=SubscriptionState.ACTIVE).update(
        state=SubscriptionState.PAUSED, paused_at=now or timezone.now(), pause_reason=reason[:500]
    )
    return bool(paused)


def rotate_secret(subscription: Subscription) -> str:
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret"])
    return subscription.secret
