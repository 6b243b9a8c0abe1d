"""The help topic: an agent who manages the ticket says what it is about, and the timeline shows it."""

from __future__ import annotations

import pytest

from django.core.exceptions import PermissionDenied, ValidationError

from tessera.tickets import policy, services
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import EntryKind, State
from tessera.tickets.policy import Action

from .helpers import entries, events, fresh, unchanged


def test_agent_changes_the_topic_and_the_timeline_says_from_what_to_what(desk, ken_ticket):
    ticket = services.set_topic(desk.john.user, ken_ticket, topic=desk.outage, expected_version=ken_ticket.version)

    ticket = fresh(ticket)
    assert ticket.topic == desk.outage
    assert ticket.version == ken_ticket.version + 1
    assert ticket.department == desk.support  # a topic says what it is about; it does not move it
    [event] = events(ticket, services.TOPIC_CHANGED)
    assert (event.actor, event.before, event.after) == (desk.john.user, "General question", "Server outage")
    assert event.data == {"topic_id": desk.outage.pk}
    assert event.created_at == ticket.updated_at
    assert event_sentence(event) == "John Doe changed the help topic from General question to Server outage"


def test_topic_can_be_removed_and_set_again(desk, ken_ticket):
    services.set_topic(desk.john.user, ken_ticket, topic=None)
    assert fresh(ken_ticket).topic is None
    services.set_topic(desk.john.user, ken_ticket, topic=desk.general)

    sentences = [event_sentence(e) for e in events(ken_ticket, services.TOPIC_CHANGED)]
    assert sentences == [
        "John Doe removed the help topic General question",
        "John Doe set the help topic to General question",
    ]


def test_topic_change_can_carry_an_internal_note(desk, ken_ticket):
    ticket = services.set_topic(
        desk.john.user, ken_ticket, topic=desk.outage, note="It is the server, not the printer."
    )

    [note] = entries(ticket, EntryKind.NOTE)
    assert note.body_text == "It is the server, not the printer."


def test_setting_the_current_topic_is_refused(desk, ken_ticket):
    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.set_topic(desk.john.user, ken_ticket, topic=desk.general)

    assert exc.value.message_dict == {"topic": ["The help topic is already General question."]}


def test_a_retired_topic_is_refused(desk, ken_ticket):
    desk.outage.is_active = False
    desk.outage.save()

    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.set_topic(desk.john.user, ken_ticket, topic=desk.outage)

    assert exc.value.message_dict == {"topic": ["The help topic Server outage is no longer in use."]}


@pytest.mark.parametrize("who", ["bill", "olga", "ken", "kim"])
def test_topic_is_refused_to_those_without_the_right(desk, ken_ticket, kim, who):
    actor = {"bill": desk.bill.user, "olga": desk.olga.user, "ken": desk.ken, "kim": kim}[who]

    assert not policy.can(actor, Action.TOPIC, ken_ticket)
    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.set_topic(actor, ken_ticket, topic=desk.outage)


def test_a_follower_may_not_change_the_topic(desk, ken_ticket):
    services.transfer(desk.john.user, ken_ticket, department=desk.billing)  # John now only follows it

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.set_topic(desk.john.user, fresh(ken_ticket), topic=desk.outage)


@pytest.mark.parametrize("state", [State.CLOSED, State.ARCHIVED])
def test_topic_of_a_closed_or_archived_ticket_is_frozen(desk, ken_ticket, set_state, superagent, state):
    ticket = set_state(ken_ticket, state)

    for actor in (desk.john.user, superagent):
        with pytest.raises(PermissionDenied), unchanged(ticket):
            services.set_topic(actor, ticket, topic=desk.outage)


def test_topic_from_a_stale_page_is_refused(desk, ken_ticket):
    loaded = ken_ticket.version
    services.set_priority(desk.john.user, ken_ticket, priority=desk.sev_a)

    with pytest.raises(services.StaleTicket), unchanged(ken_ticket):
        services.set_topic(desk.john.user, ken_ticket, topic=desk.outage, expected_version=loaded)
