"""Public replies (agent responses, customer messages) and internal notes."""

from __future__ import annotations

import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tessera.accounts.models import Agent, Membership, Role
from tessera.tickets import services
from tessera.tickets.models import Collaborator, EntryKind, EventKind, State, ThreadEntry

from .helpers import events, fresh, unchanged


@pytest.fixture
def copied_kim(ken_ticket, kim):
    Collaborator.objects.create(ticket=ken_ticket, user=kim)
    return kim


# ---------------------------------------------------------------------------- agent responses


def test_agents_reply_is_a_response_that_marks_the_ticket_answered(desk, ken_ticket):
    before = timezone.now()
    entry = services.reply(desk.john.user, ken_ticket, message="Try **tray 2**.")

    ticket = fresh(ken_ticket)
    assert entry.kind == EntryKind.RESPONSE
    assert (entry.author, entry.author_name) == (desk.john.user, "John Doe")
    assert "<strong>tray 2</strong>" in entry.body_html
    assert entry.body_text == "Try **tray 2**."
    assert ticket.is_answered is True
    assert before <= entry.created_at
    assert ticket.first_response_at == ticket.last_response_at == ticket.updated_at == entry.created_at
    assert ticket.last_message_at == ken_ticket.last_message_at  # the customer has not written again
    assert ticket.version == ken_ticket.version + 1
    assert ticket.state == State.OPEN


def test_a_second_response_moves_last_response_but_keeps_the_first(desk, ken_ticket):
    first = services.reply(desk.john.user, ken_ticket, message="Try tray 2.")
    second = services.reply(desk.john.user, ken_ticket, message="Any luck?")

    ticket = fresh(ken_ticket)
    assert ticket.first_response_at == first.created_at
    assert ticket.last_response_at == second.created_at > first.created_at
    assert ticket.version == ken_ticket.version + 2


def test_agent_can_answer_and_resolve_in_one_step_with_one_version_bump(desk, ken_ticket):
    entry = services.reply(desk.john.user, ken_ticket, message="Fixed.", status=desk.resolved)

    ticket = fresh(ken_ticket)
    assert ticket.state == State.RESOLVED and ticket.status == desk.resolved
    assert ticket.resolved_at == entry.created_at
    assert ticket.version == ken_ticket.version + 1
    [status] = events(ticket, EventKind.STATUS)
    assert (status.actor, status.before, status.after) == (desk.john.user, "Open", "Resolved")


def test_agent_reply_to_a_ticket_waiting_on_the_customer_leaves_it_waiting(desk, ken_ticket, set_state):
    ticket = set_state(ken_ticket, State.PENDING)

    services.reply(desk.john.user, ticket, message="Still waiting on that log file.")

    assert fresh(ticket).state == State.PENDING


def test_superuser_agent_reply_is_a_response_not_a_customer_message(desk, ken_ticket, superagent):
    entry = services.reply(superagent, ken_ticket, message="Looking into it.")

    assert entry.kind == EntryKind.RESPONSE
    assert fresh(ken_ticket).is_answered is True


def test_agent_who_opened_a_ticket_elsewhere_for_themselves_writes_as_a_customer(desk):
    own = services.open_ticket(
        desk.bill.user, requester=desk.bill.user, subject="Laptop", message="Broken.", topic=desk.general
    )

    entry = services.reply(desk.bill.user, own, message="Still broken.")

    assert entry.kind == EntryKind.MESSAGE


# ---------------------------------------------------------------------------- customer messages


def test_customers_reply_is_a_message_that_marks_the_ticket_unanswered(desk, ken_ticket):
    services.reply(desk.john.user, ken_ticket, message="Try tray 2.")
    answered = fresh(ken_ticket)

    entry = services.reply(desk.ken, answered, message="Tray 2 jams too.")

    ticket = fresh(ken_ticket)
    assert entry.kind == EntryKind.MESSAGE and entry.author == desk.ken
    assert ticket.is_answered is False
    assert ticket.last_message_at == ticket.updated_at == entry.created_at
    assert ticket.first_response_at == answered.first_response_at
    assert ticket.last_response_at == answered.last_response_at
    assert ticket.version == answered.version + 1


def test_person_copied_on_the_ticket_can_reply(desk, ken_ticket, copied_kim):
    entry = services.reply(copied_kim, ken_ticket, message="Same on my floor.")

    assert entry.kind == EntryKind.MESSAGE and entry.author == copied_kim


@pytest.mark.parametrize("state", [State.RESOLVED, State.CLOSED])
def test_customer_reply_reopens_a_finished_ticket(desk, ken_ticket, state):
    services.set_status(desk.john.user, ken_ticket, status=desk.resolved)
    if state == State.CLOSED:
        services.set_status(desk.john.user, ken_ticket, status=desk.closed)
    finished = fresh(ken_ticket)

    entry = services.reply(desk.ken, finished, message="It is back.")

    ticket = fresh(ken_ticket)
    assert (ticket.state, ticket.status) == (State.OPEN, desk.open)
    assert ticket.resolved_at is None and ticket.closed_at is None
    assert ticket.version == finished.version + 1
    reopened, status = events(ticket)[-2:]
    assert (reopened.kind, status.kind) == (EventKind.REOPENED, EventKind.STATUS)
    for event in (reopened, status):
        assert event.actor == desk.ken
        assert (event.before, event.after) == (finished.status.name, "Open")
        assert event.created_at == entry.created_at


def test_customer_reply_to_a_ticket_waiting_on_them_puts_it_back_in_the_queue_without_a_reopen(
    desk, ken_ticket, set_state
):
    ticket = set_state(ken_ticket, State.PENDING)

    services.reply(desk.ken, ticket, message="Here is the log.")

    ticket = fresh(ticket)
    assert ticket.state == State.OPEN
    assert not events(ticket, EventKind.REOPENED)
    [status] = events(ticket, EventKind.STATUS)
    assert (status.before, status.after) == ("Waiting on customer", "Open")


# ---------------------------------------------------------------------------- reply refusals


def test_agent_outside_the_department_cannot_reply(desk, ken_ticket):
    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.reply(desk.bill.user, ken_ticket, message="Hello from Billing.")


def test_observer_cannot_reply_to_the_customer(desk, ken_ticket):
    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.reply(desk.olga.user, ken_ticket, message="Observing.")


def test_stranger_cannot_reply_to_kens_ticket(desk, ken_ticket, kim):
    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.reply(kim, ken_ticket, message="Me too.")


def test_disabled_agent_cannot_reply(desk, ken_ticket):
    Agent.objects.filter(pk=desk.john.pk).update(is_active=False)
    desk.john.refresh_from_db()

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.reply(desk.john.user, ken_ticket, message="Still here?")


def test_agent_cannot_reply_on_a_closed_ticket_without_reopening_it(desk, ken_ticket, set_state):
    ticket = set_state(ken_ticket, State.CLOSED)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.reply(desk.john.user, ticket, message="One more thing.")


def test_nobody_replies_on_an_archived_ticket(desk, ken_ticket, set_state, superagent):
    ticket = set_state(ken_ticket, State.ARCHIVED)

    for actor in (desk.ken, desk.john.user, superagent):
        with pytest.raises(PermissionDenied), unchanged(ticket):
            services.reply(actor, ticket, message="Hello?")


def test_customer_cannot_set_a_status_while_replying(desk, ken_ticket):
    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.reply(desk.ken, ken_ticket, message="Sorted, thanks.", status=desk.resolved)


def test_a_status_the_agent_may_not_set_undoes_the_whole_reply(desk, ken_ticket):
    # John follows the ticket after referring it: he may reply, but not resolve.
    ticket = services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.reply(desk.john.user, ticket, message="Done, I think.", status=desk.resolved)


def test_access_is_checked_on_the_ticket_as_it_is_now_not_as_the_page_showed_it(desk, ken_ticket):
    page_copy = fresh(ken_ticket)  # Olga's screen, still in Support
    ticket = services.transfer(desk.john.user, ken_ticket, department=desk.billing)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.add_note(desk.olga.user, page_copy, note="Looks like a paper problem.")


@pytest.mark.parametrize("message", ["", "  \n "], ids=["empty", "blank"])
def test_reply_needs_a_message(desk, ken_ticket, message):
    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.reply(desk.john.user, ken_ticket, message=message)

    assert exc.value.message_dict == {"message": ["Write a message first."]}


def test_oversized_reply_is_refused(desk, ken_ticket, settings):
    settings.TESSERA = {**settings.TESSERA, "MAX_MESSAGE_LENGTH": 10}

    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.reply(desk.john.user, ken_ticket, message="x" * 11)

    assert "the limit is 10" in exc.value.message_dict["message"][0]


def test_reply_from_a_stale_page_is_refused_and_the_input_can_be_kept(desk, ken_ticket):
    seen = ken_ticket.version
    services.add_note(desk.olga.user, ken_ticket, note="Customer called.")
    ticket = fresh(ken_ticket)

    with pytest.raises(services.StaleTicket) as exc, unchanged(ticket):
        services.reply(desk.john.user, ticket, message="Try tray 2.", expected_version=seen)

    assert exc.value.code == "stale"
    assert f"#{ticket.number}" in exc.value.messages[0]
    services.reply(desk.john.user, ticket, message="Try tray 2.", expected_version=ticket.version)


def test_a_failure_half_way_through_a_reply_leaves_no_entry_and_no_reopen(desk, ken_ticket, set_state, fail_midway):
    ticket = set_state(ken_ticket, State.RESOLVED)

    with pytest.raises(fail_midway), unchanged(ticket):
        services.reply(desk.ken, ticket, message="It is back.")


# ---------------------------------------------------------------------------- internal notes


def test_agent_adds_an_internal_note_recorded_on_the_timeline(desk, ken_ticket):
    note = services.add_note(desk.john.user, ken_ticket, note="Asked facilities about the printer.")

    ticket = fresh(ken_ticket)
    assert note.kind == EntryKind.NOTE and not note.is_public
    assert note.author == desk.john.user and note.source == "staff"
    [event] = events(ticket, EventKind.NOTE)
    assert event.actor == desk.john.user
    assert event.data == {"entry_id": note.pk}
    assert event.created_at == note.created_at == ticket.updated_at
    assert ticket.version == ken_ticket.version + 1
    # A note is not an answer to the customer.
    assert ticket.is_answered is False
    assert ticket.first_response_at is None and ticket.last_response_at is None


def test_observer_may_add_notes(desk, ken_ticket):
    note = services.add_note(desk.olga.user, ken_ticket, note="Seen this before: tray 2.")

    assert note.author == desk.olga.user


def test_notes_can_still_be_added_to_a_closed_ticket(desk, ken_ticket, set_state):
    ticket = set_state(ken_ticket, State.CLOSED)

    services.add_note(desk.john.user, ticket, note="For the record: replaced the roller.")

    assert fresh(ticket).state == State.CLOSED


def test_notes_cannot_be_added_to_an_archived_ticket(desk, ken_ticket, set_state):
    ticket = set_state(ken_ticket, State.ARCHIVED)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.add_note(desk.john.user, ticket, note="Late thought.")


@pytest.mark.parametrize("who", ["ken", "kim", "bill"])
def test_customers_and_agents_without_access_cannot_add_notes(desk, ken_ticket, copied_kim, who):
    actor = {"ken": desk.ken, "kim": copied_kim, "bill": desk.bill.user}[who]

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.add_note(actor, ken_ticket, note="Psst.")


def test_role_without_the_note_permission_cannot_add_notes(desk, ken_ticket):
    mute = Role.objects.create(name="Read only", permissions=["view"])
    Membership.objects.filter(agent=desk.olga).update(role=mute)

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.add_note(desk.olga.user, ken_ticket, note="Psst.")


def test_note_needs_text_and_a_fresh_page(desk, ken_ticket):
    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.add_note(desk.john.user, ken_ticket, note=" ")
    assert exc.value.message_dict == {"note": ["Write a message first."]}

    with pytest.raises(services.StaleTicket), unchanged(ken_ticket):
        services.add_note(desk.john.user, ken_ticket, note="Hi", expected_version=ken_ticket.version - 1)


def test_a_failure_half_way_through_a_note_leaves_nothing(desk, ken_ticket, fail_midway):
    with pytest.raises(fail_midway), unchanged(ken_ticket):
        services.add_note(desk.john.user, ken_ticket, note="Lost?")

    assert not ThreadEntry.objects.filter(kind=EntryKind.NOTE).exists()
