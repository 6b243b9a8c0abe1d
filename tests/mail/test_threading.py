"""Which ticket a message answers, and which senders are refused before that question."""

from __future__ import annotations

from datetime import timedelta

import pytest

from django.utils import timezone

from tessera.mail import senders
from tessera.mail.message import Address, ParsedMessage
from tessera.mail.models import BannedSender, Delivery, InboundMessage
from tessera.mail.threading import find_ticket
from tessera.tickets import services


def message(sender="ken@example.com", subject="Re: something", in_reply_to=(), references=()) -> ParsedMessage:
    return ParsedMessage(
        message_id="new@client.example",
        sender=Address("", sender),
        subject=subject,
        in_reply_to=list(in_reply_to),
        references=list(references),
        text="Thanks",
    )


def sent(ticket, message_id: str) -> Delivery:
    return Delivery.objects.create(
        ticket=ticket, notice="response", recipient=ticket.user.email, user=ticket.user, message_id=message_id
    )


def received(ticket, message_id: str) -> InboundMessage:
    return InboundMessage.objects.create(
        dedupe_key=f"mid:{message_id}",
        message_id=message_id,
        sha256="0" * 64,
        raw=b"x",
        size=1,
        channel="pipe",
        ticket=ticket,
        status="reply",
    )


def manager(desk):
    """A Manager in Support: the role that may merge."""
    from tessera.accounts.models import Agent, Membership, Role, User

    user = User.objects.create_user("mia@example.com", desk.password, name="Mia Manager")
    agent = Agent.objects.create(user=user)
    Membership.objects.create(
        agent=agent, department=desk.support, role=Role.objects.get(name="Manager"), is_primary=True
    )
    return user


def other_ticket(desk):
    return services.open_ticket(desk.ken, requester=desk.ken, subject="Other", message="Other", topic=desk.general)


def test_a_reply_to_our_notification_finds_its_ticket_by_in_reply_to(desk, ken_ticket):
    sent(ken_ticket, "tessera-100001-aaaa@localhost")
    assert find_ticket(message(in_reply_to=["tessera-100001-aaaa@localhost"])) == ken_ticket


def test_references_are_searched_newest_first(desk, ken_ticket):
    older = other_ticket(desk)
    sent(older, "old@localhost")
    sent(ken_ticket, "newest@localhost")
    found = find_ticket(message(references=["unknown@elsewhere", "old@localhost", "newest@localhost"]))
    assert found == ken_ticket


def test_a_reply_to_mail_we_received_finds_the_same_ticket(desk, ken_ticket):
    received(ken_ticket, "original@client.example")
    assert find_ticket(message(sender="someone@else.example", in_reply_to=["original@client.example"])) == ken_ticket


def test_the_subject_number_threads_mail_from_the_requester(desk, ken_ticket):
    subject = f"AW: Fwd: [#{ken_ticket.number}] Printer jams"
    assert find_ticket(message(subject=subject)) == ken_ticket


def test_the_subject_number_threads_mail_from_an_agent_who_sees_the_ticket(desk, ken_ticket):
    subject = f"Re: [ #{ken_ticket.number} ] Printer jams"
    assert find_ticket(message(sender="john@example.com", subject=subject)) == ken_ticket
    # Bill works in Billing and cannot see Support's ticket: the number alone does not let him in.
    assert find_ticket(message(sender="bill@example.com", subject=subject)) is None


def test_a_stranger_cannot_write_onto_a_ticket_by_guessing_its_number(desk, ken_ticket):
    assert find_ticket(message(sender="mallory@evil.example", subject=f"[#{ken_ticket.number}] hi")) is None


def test_our_thread_root_in_references_threads_mail_whose_subject_was_rewritten(desk, ken_ticket):
    root = f"ticket-{ken_ticket.number}@localhost"
    assert find_ticket(message(subject="Printer", references=[root])) == ken_ticket
    assert find_ticket(message(sender="mallory@evil.example", references=[root])) is None


def test_mail_about_a_merged_ticket_lands_on_the_ticket_it_was_merged_into(desk, ken_ticket):
    target = other_ticket(desk)
    services.merge(manager(desk), target, sources=[ken_ticket])
    sent(ken_ticket, "before-merge@localhost")
    assert find_ticket(message(in_reply_to=["before-merge@localhost"])) == target
    assert find_ticket(message(subject=f"Re: [#{ken_ticket.number}]")) == target


def test_a_new_message_belongs_to_no_ticket(desk, ken_ticket):
    assert find_ticket(message(subject="My laptop is on fire")) is None


# ---------------------------------------------------------------------------- senders


@pytest.mark.django_db
def test_a_ban_covers_the_address_and_the_whole_domain_in_any_case():
    BannedSender.objects.create(pattern="spam@example.net", reason="spam")
    BannedSender.objects.create(pattern="Junk.Example")
    assert senders.banned("SPAM@example.net").pattern == "spam@example.net"
    assert senders.banned("anyone@junk.example").pattern == "Junk.Example"
    assert senders.banned("ham@example.net") is None
    assert senders.banned("someone@notjunk.example") is None


@pytest.mark.django_db
def test_a_sender_over_the_hourly_limit_is_caught(settings):
    settings.TESSERA = {**settings.TESSERA, "MAIL_SENDER_LIMIT_PER_HOUR": 2}
    for n in range(2):
        received(None, f"m{n}@flood.example").__class__.objects.filter(message_id=f"m{n}@flood.example").update(
            sender="flood@example.net"
        )
    assert not senders.over_limit("flood@example.net")
    received(None, "m3@flood.example")
    InboundMessage.objects.filter(message_id="m3@flood.example").update(sender="flood@example.net")
    assert senders.over_limit("flood@example.net")
    # Mail older than an hour no longer counts.
    InboundMessage.objects.update(received_at=timezone.now() - timedelta(hours=2))
    assert not senders.over_limit("flood@example.net")


def test_mail_from_the_desks_own_addresses_is_recognised(desk, settings):
    assert senders.is_ours("Support@Example.com")
    assert senders.is_ours("support@localhost")
    assert not senders.is_ours("ken@example.com")
