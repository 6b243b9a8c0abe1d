"""Which ticket a message answers.

Headers first, because clients copy them faithfully and a stranger cannot guess them: the
Message-IDs in In-Reply-To and References (newest first) are looked up among the mail we sent
(Delivery) and the mail we received that landed on a ticket (InboundMessage). Only then the
ticket number, which anybody can type: "[#100001]" in the subject, or our thread root
"ticket-100001@<our domain>" in References (clients that rewrite subjects keep it). Both of
those are accepted only from the ticket's requester, a person copied on it, or an agent who can
see it, so guessing a number never writes onto someone else's ticket.
"""

from __future__ import annotations

import re

from django.db.models import Value

from tessera.accounts.models import User
from tessera.tickets import policy
from tessera.tickets.models import Ticket
from tessera.tickets.policy import Action

from .message import ParsedMessage
from .models import Delivery, InboundMessage
from .outbound import our_domain

# "[#100001] Printer jams", "Re: [#100001]", "AW: [ #100001 ]", "Fwd: [Ticket #100001]".
SUBJECT_TOKEN = re.compile(r"\[[^\]\[#]{0,20}#\s*(\d{1,18})\s*\]")
MAX_IDS = 50  # References can be long; the newest ones are the ones that matter


def resolve_merged(ticket: Ticket | None) -> Ticket | None:
    """A merged ticket stands for the ticket it was merged into (merging keeps pointers one
    step long, but a few hops are followed in case of older data)."""
    seen: set[int] = set()
    while ticket is not None and ticket.merged_into_id is not None and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first() or ticket
    return ticket


def candidate_ids(parsed: ParsedMessage) -> list[str]:
    """In-Reply-To first, then References newest first, without duplicates."""
    ids = [*parsed.in_reply_to, *reversed(parsed.references)]
    return [i for i in dict.fromkeys(i.strip().strip("<>") for i in ids) if i][:MAX_IDS]


def _by_message_ids(ids: list[str]) -> Ticket | None:
    if not ids:
        return None
    # One round trip for both the mail we sent and the mail we received; for an id in both,
    # the mail we sent wins (rank 0).
    sent = Delivery.objects.filter(message_id__in=ids).annotate(rank=Value(0))
    received = InboundMessage.objects.filter(message_id__in=ids, ticket__isnull=False).annotate(rank=Value(1))
    rows = sent.values_list("message_id", "ticket_id", "rank").union(
        received.values_list("message_id", "ticket_id", "rank"), all=True
    )
    # Rank 0 comes last, so it wins.
    found: dict[str, int] = {mid: ticket_id for mid, ticket_id, _rank in sorted(rows, key=lambda row: -row[2])}
    for mid in ids:
        if found.get(mid):
            return Ticket.objects.filter(pk=found[mid]).first()
    return None


def _numbers(parsed: ParsedMessage) -> list[int]:
    numbers = [int(n) for n in SUBJECT_TOKEN.findall(parsed.subject or "")]
    root = re.compile(rf"^ticket-(\d{{1,18}})@{re.escape(our_domain())}$", re.I)
    for mid in candidate_ids(parsed):
        match = root.match(mid)
        if match:
            numbers.append(int(match.group(1)))
    return list(dict.fromkeys(numbers))


def sender_user(parsed: ParsedMessage) -> User | None:
    address = (parsed.sender.email if parsed.sender else "").strip().lower()
    # Addresses are stored lower-cased: an exact match uses the unique index, iexact would not.
    return User.objects.filter(email=address).first() if address else None


def may_claim(user: User | None, ticket: Ticket) -> bool:
    """May this sender thread onto `ticket` by its number alone?"""
    if user is None or not user.is_active:
        return False
    return policy.is_end_user_party(user, ticket) or (user.is_agent and policy.can(user, Action.VIEW, ticket))


def find_ticket(parsed: ParsedMessage) -> Ticket | None:
    """The ticket this message belongs to, or None for a new conversation."""
    ticket = _by_message_ids(candidate_ids(parsed))
    if ticket is not None:
        return resolve_merged(ticket)
    numbers = _numbers(parsed)
    if not numbers:
        return None
    user = sender_user(parsed)
    for ticket in Ticket.objects.filter(number__in=numbers).select_related("department"):
        ticket = resolve_merged(ticket)
        if ticket is not None and may_claim(user, ticket):
            return ticket
    return None
