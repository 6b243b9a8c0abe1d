"""Moving a ticket to another department, and the agent who sent it there keeping an eye on it.

The story: Ken's printer ticket turns out to be a print-server problem. John (Support) transfers
it to System Administration and assigns Jane. John keeps following it: he sees it, can add a
note, gets its updates by email, but cannot resolve or reassign it; once Jane resolves it, he
may close it.
"""

from __future__ import annotations

import pytest

from django.core.exceptions import PermissionDenied, ValidationError

from tessera.accounts.models import Agent, Membership, Role
from tessera.tickets import policy, services
from tessera.tickets.models import EntryKind, EventKind, Referral, State

from .helpers import entries, events, fresh, unchanged


def test_transfer_moves_the_ticket_and_records_from_where_to_where(desk, ken_ticket):
    ticket = services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin)

    ticket = fresh(ticket)
    assert ticket.department == desk.sysadmin
    assert ticket.assignee is None
    assert ticket.version == ken_ticket.version + 1
    [event] = events(ticket, EventKind.TRANSFERRED)
    assert (event.actor, event.before, event.after) == (desk.john.user, "Support", "System Administration")
    assert event.data == {"department_id": desk.sysadmin.pk}
    assert event.created_at == ticket.updated_at


def test_transfer_with_an_agent_assigns_them_in_the_same_step(desk, ken_ticket):
    ticket = services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin, agent=desk.jane)

    ticket = fresh(ticket)
    assert (ticket.department, ticket.assignee) == (desk.sysadmin, desk.jane)
    assert [e.kind for e in events(ticket)][-3:] == [EventKind.TRANSFERRED, EventKind.ASSIGNED, EventKind.REFERRED]
    assert events(ticket, EventKind.ASSIGNED)[0].after == "Jane Doe"
    assert ticket.version == ken_ticket.version + 1


def test_transfer_with_a_team_hands_it_to_the_team(desk, ken_ticket):
    ticket = services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin, team=desk.ops)

    assert (ticket.department, ticket.team) == (desk.sysadmin, desk.ops)


def test_transfer_can_explain_itself_in_an_internal_note(desk, ken_ticket):
    ticket = services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin, note="Print server, not paper.")

    [note] = entries(ticket, EntryKind.NOTE)
    assert (note.author, note.body_text) == (desk.john.user, "Print server, not paper.")


def test_old_assignee_who_does_not_work_in_the_new_department_is_released(desk, ken_ticket):
    ticket = services.claim(desk.john.user, ken_ticket)

    ticket = services.transfer(desk.john.user, ticket, department=desk.sysadmin)

    assert ticket.assignee is None
    [released] = events(ticket, EventKind.RELEASED)
    assert (released.before, released.after) == ("John Doe", "")


def test_old_assignee_who_works_in_both_departments_keeps_the_ticket(desk, ken_ticket):
    Membership.objects.create(agent=desk.john, department=desk.sysadmin, role=Role.objects.get(name="Agent"))
    ticket = services.claim(desk.john.user, ken_ticket)

    ticket = services.transfer(desk.john.user, ticket, department=desk.sysadmin)

    assert ticket.assignee == desk.john
    assert not events(ticket, EventKind.RELEASED)
    assert not Referral.objects.exists()


def test_transfer_within_the_department_to_an_agent_is_an_assignment(desk, ken_ticket):
    ticket = services.transfer(desk.john.user, ken_ticket, department=desk.support, agent=desk.jane)

    assert ticket.assignee == desk.jane
    assert not events(ticket, EventKind.TRANSFERRED)


def test_transfer_to_where_the_ticket_already_is_is_refused(desk, ken_ticket):
    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.transfer(desk.john.user, ken_ticket, department=desk.support)
    assert exc.value.message_dict == {"department": ["The ticket is already in Support."]}

    ticket = services.assign(desk.john.user, ken_ticket, agent=desk.jane)
    with pytest.raises(ValidationError), unchanged(ticket):
        services.transfer(desk.john.user, ticket, department=desk.support, agent=desk.jane)


@pytest.mark.parametrize("who", ["bill", "olga", "ken", "kim"])
def test_transfer_is_refused_to_those_without_the_right(desk, ken_ticket, kim, who):
    actor = {"bill": desk.bill.user, "olga": desk.olga.user, "ken": desk.ken, "kim": kim}[who]

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.transfer(actor, ken_ticket, department=desk.sysadmin)


def test_dispatcher_may_transfer_but_not_pick_the_agent(desk, ken_ticket):
    dispatcher = Role.objects.create(name="Dispatcher", permissions=["view", "transfer"])
    Membership.objects.filter(agent=desk.olga).update(role=dispatcher)

    with pytest.raises(PermissionDenied) as exc, unchanged(ken_ticket):
        services.transfer(desk.olga.user, ken_ticket, department=desk.sysadmin, agent=desk.jane)
    assert str(exc.value) == "You can transfer this ticket but not assign it."

    assert services.transfer(desk.olga.user, ken_ticket, department=desk.sysadmin).department == desk.sysadmin


def test_closed_ticket_cannot_be_transferred(desk, ken_ticket, set_state):
    ticket = set_state(ken_ticket, State.CLOSED)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.transfer(desk.john.user, ticket, department=desk.sysadmin)


def test_transfer_to_an_agent_who_is_away_is_refused(desk, ken_ticket):
    Agent.objects.filter(pk=desk.jane.pk).update(is_available=False)
    desk.jane.refresh_from_db()

    with pytest.raises(ValidationError), unchanged(ken_ticket):
        services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin, agent=desk.jane)


def test_transfer_from_a_stale_page_is_refused(desk, ken_ticket):
    services.add_note(desk.olga.user, ken_ticket, note="Customer called.")
    ticket = fresh(ken_ticket)

    with pytest.raises(services.StaleTicket), unchanged(ticket):
        services.transfer(desk.john.user, ticket, department=desk.sysadmin, expected_version=ken_ticket.version)


def test_a_failure_half_way_through_a_transfer_leaves_it_where_it_was(desk, ken_ticket, fail_midway):
    with pytest.raises(fail_midway), unchanged(ken_ticket):
        services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin, agent=desk.jane, note="Yours.")


# ---------------------------------------------------------------------------- the referral story


@pytest.fixture
def referred(desk, ken_ticket):
    """John has transferred Ken's ticket to System Administration and assigned Jane."""
    return services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin, agent=desk.jane)


def test_john_keeps_following_the_ticket_he_referred(desk, referred):
    assert Referral.objects.filter(ticket=referred, agent=desk.john).exists()
    assert policy.can(desk.john.user, "view", referred)
    assert policy.visible_tickets(desk.john).filter(pk=referred.pk).exists()
    # Olga, also in Support, did not refer it and no longer sees it.
    assert not policy.can(desk.olga.user, "view", referred)
    assert not policy.visible_tickets(desk.olga).filter(pk=referred.pk).exists()


def test_john_cannot_resolve_or_reassign_the_referred_ticket(desk, referred):
    refusals = [
        lambda: services.set_status(desk.john.user, referred, status=desk.resolved),
        lambda: services.set_status(desk.john.user, referred, status=desk.pending),
        lambda: services.set_status(desk.john.user, referred, status=desk.closed),
        lambda: services.assign(desk.john.user, referred, agent=desk.john),
        lambda: services.release(desk.john.user, referred),
        lambda: services.transfer(desk.john.user, referred, department=desk.support),
        lambda: services.set_priority(desk.john.user, referred, priority=desk.sev_a),
    ]
    for refused in refusals:
        with pytest.raises(PermissionDenied), unchanged(referred):
            refused()


def test_john_cannot_take_the_referred_ticket_back_by_claiming_it(desk, ken_ticket):
    ticket = services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin)  # unassigned there

    assert not policy.can(desk.john.user, "claim", ticket)
    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.claim(desk.john.user, ticket)


def test_john_can_add_a_note_to_the_referred_ticket(desk, referred):
    note = services.add_note(desk.john.user, referred, note="Ken's floor printer, if that helps.")

    assert note.kind == EntryKind.NOTE


def test_john_can_close_the_referred_ticket_only_once_jane_resolved_it(desk, referred):
    with pytest.raises(PermissionDenied), unchanged(referred):
        services.set_status(desk.john.user, referred, status=desk.closed)

    services.set_status(desk.jane.user, referred, status=desk.resolved)
    ticket = services.set_status(desk.john.user, fresh(referred), status=desk.closed)

    assert ticket.state == State.CLOSED and ticket.closed_at is not None
    closed = events(ticket, EventKind.STATUS)[-1]
    assert (closed.actor, closed.before, closed.after) == (desk.john.user, "Resolved", "Closed")


def test_john_receives_the_referred_tickets_updates_by_email(desk, referred, smtp, django_capture_on_commit_callbacks):
    john = "john@example.com"
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(desk.jane.user, referred, message="Restarted the print spooler.")
    smtp.wait_for(lambda m: john in m["To"] and "Update: Printer jams" in m["Subject"])

    with django_capture_on_commit_callbacks(execute=True):
        services.reply(desk.ken, fresh(referred), message="Works now, thanks!")
    smtp.wait_for(lambda m: john in m["To"] and "New message: Printer jams" in m["Subject"])

    with django_capture_on_commit_callbacks(execute=True):
        services.set_status(desk.jane.user, fresh(referred), status=desk.resolved)
    smtp.wait_for(lambda m: john in m["To"] and "The ticket is now Resolved." in m.get_body(("plain",)).get_content())
    assert len(smtp.to(john)) == 3


def test_customer_message_on_an_unassigned_referred_ticket_reaches_the_new_department_too(
    desk, ken_ticket, smtp, django_capture_on_commit_callbacks
):
    ticket = services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin)  # nobody assigned there

    with django_capture_on_commit_callbacks(execute=True):
        services.reply(desk.ken, ticket, message="Any news?")

    alerted = {m["To"] for m in smtp.messages if "New message" in m["Subject"]}
    assert alerted == {"jane@example.com", "john@example.com"}


def test_the_timeline_says_john_keeps_following_the_ticket(desk, referred):
    from tessera.tickets.models import Event, EventKind

    [event] = Event.objects.filter(ticket=referred, kind=EventKind.REFERRED)
    assert event.actor == desk.john.user
    assert event.after == "John Doe"
