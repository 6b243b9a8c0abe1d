"""Priority changes and the lifecycle: resolve, close, reopen, wait on the customer, and the customer closing."""

from __future__ import annotations

import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tessera.accounts.models import Membership, Role
from tessera.tickets import services
from tessera.tickets.models import Collaborator, EntryKind, EventKind, State, Status

from .helpers import entries, events, fresh, unchanged

# ---------------------------------------------------------------------------- priority


def test_agent_escalates_the_priority_and_the_timeline_shows_from_what_to_what(desk, ken_ticket):
    ticket = services.set_priority(desk.john.user, ken_ticket, priority=desk.sev_a, expected_version=ken_ticket.version)

    ticket = fresh(ticket)
    assert ticket.priority == desk.sev_a
    assert ticket.version == ken_ticket.version + 1
    [event] = events(ticket, EventKind.PRIORITY)
    assert (event.actor, event.before, event.after) == (desk.john.user, "Sev-C (Normal)", "Sev-A (Emergency)")
    assert event.data == {"priority_id": desk.sev_a.pk}
    assert event.created_at == ticket.updated_at


def test_priority_change_can_carry_an_internal_note(desk, ken_ticket):
    ticket = services.set_priority(desk.john.user, ken_ticket, priority=desk.sev_b, note="Whole floor affected.")

    [note] = entries(ticket, EntryKind.NOTE)
    assert note.body_text == "Whole floor affected."


def test_setting_the_current_priority_is_refused(desk, ken_ticket):
    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.set_priority(desk.john.user, ken_ticket, priority=desk.sev_c)

    assert exc.value.message_dict == {"priority": ["The priority is already Sev-C (Normal)."]}


@pytest.mark.parametrize("who", ["bill", "olga", "ken", "kim"])
def test_priority_is_refused_to_those_without_the_right(desk, ken_ticket, kim, who):
    actor = {"bill": desk.bill.user, "olga": desk.olga.user, "ken": desk.ken, "kim": kim}[who]

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.set_priority(actor, ken_ticket, priority=desk.sev_a)


def test_priority_of_a_closed_ticket_is_frozen(desk, ken_ticket, set_state):
    ticket = set_state(ken_ticket, State.CLOSED)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.set_priority(desk.john.user, ticket, priority=desk.sev_a)


def test_priority_from_a_stale_page_is_refused(desk, ken_ticket):
    ticket = services.set_priority(desk.john.user, ken_ticket, priority=desk.sev_b)

    with pytest.raises(services.StaleTicket), unchanged(ticket):
        services.set_priority(desk.john.user, ticket, priority=desk.sev_a, expected_version=ken_ticket.version)


def test_a_failure_half_way_through_a_priority_change_leaves_no_event(desk, ken_ticket, fail_midway):
    with pytest.raises(fail_midway), unchanged(ken_ticket):
        services.set_priority(desk.john.user, ken_ticket, priority=desk.sev_a, note="Urgent.")


# ---------------------------------------------------------------------------- status


def test_agent_resolves_the_ticket(desk, ken_ticket):
    before = timezone.now()
    ticket = services.set_status(desk.john.user, ken_ticket, status=desk.resolved, expected_version=ken_ticket.version)

    ticket = fresh(ticket)
    assert (ticket.state, ticket.status) == (State.RESOLVED, desk.resolved)
    assert before <= ticket.resolved_at == ticket.updated_at
    assert ticket.closed_at is None
    assert ticket.version == ken_ticket.version + 1
    [event] = events(ticket, EventKind.STATUS)
    assert (event.actor, event.before, event.after) == (desk.john.user, "Open", "Resolved")
    assert event.data == {"state": "resolved"}


def test_closing_a_resolved_ticket_keeps_when_it_was_resolved(desk, ken_ticket):
    resolved = services.set_status(desk.john.user, ken_ticket, status=desk.resolved)

    closed = fresh(services.set_status(desk.john.user, resolved, status=desk.closed))

    assert closed.state == State.CLOSED
    assert closed.resolved_at == fresh(resolved).resolved_at < closed.closed_at == closed.updated_at


def test_closing_an_open_ticket_resolves_and_closes_it_at_once(desk, ken_ticket):
    closed = fresh(services.set_status(desk.john.user, ken_ticket, status=desk.closed, note="Duplicate of #99."))

    assert closed.resolved_at == closed.closed_at == closed.updated_at
    assert entries(closed, EntryKind.NOTE)[0].body_text == "Duplicate of #99."


@pytest.mark.parametrize("finished", [State.RESOLVED, State.CLOSED])
def test_agent_reopens_a_finished_ticket(desk, ken_ticket, finished):
    ticket = services.set_status(desk.john.user, ken_ticket, status=desk.resolved)
    if finished == State.CLOSED:
        ticket = services.set_status(desk.john.user, ticket, status=desk.closed)

    reopened = fresh(services.set_status(desk.john.user, ticket, status=desk.open))

    assert (reopened.state, reopened.status) == (State.OPEN, desk.open)
    assert reopened.resolved_at is None and reopened.closed_at is None
    assert reopened.version == ticket.version + 1
    reopen_event, status_event = events(reopened)[-2:]
    assert reopen_event.kind == EventKind.REOPENED and status_event.kind == EventKind.STATUS
    assert (reopen_event.before, reopen_event.after) == (ticket.status.name, "Open")


def test_closed_ticket_moved_back_to_resolved_is_no_longer_closed(desk, ken_ticket):
    ticket = services.set_status(desk.john.user, ken_ticket, status=desk.closed)

    ticket = fresh(services.set_status(desk.john.user, ticket, status=desk.resolved))

    assert ticket.state == State.RESOLVED
    assert ticket.closed_at is None
    assert ticket.resolved_at == ticket.updated_at


def test_agent_parks_the_ticket_while_waiting_on_the_customer(desk, ken_ticket):
    ticket = fresh(services.set_status(desk.john.user, ken_ticket, status=desk.pending))

    assert (ticket.state, ticket.status) == (State.PENDING, desk.pending)
    assert not events(ticket, EventKind.REOPENED)


def test_admin_defined_statuses_map_to_their_state(desk, ken_ticket):
    on_hold = Status.objects.create(name="On hold: vendor", state=State.PENDING, order=9)

    ticket = services.set_status(desk.john.user, ken_ticket, status=on_hold)

    assert (ticket.state, ticket.status) == (State.PENDING, on_hold)
    assert events(ticket, EventKind.STATUS)[0].after == "On hold: vendor"


def test_setting_the_current_status_is_refused(desk, ken_ticket):
    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.set_status(desk.john.user, ken_ticket, status=desk.open)

    assert exc.value.message_dict == {"status": ["The ticket is already Open."]}


@pytest.mark.parametrize(
    "who, status",
    [
        (who, status)
        for who in ("bill", "olga", "ken", "kim")
        for status in ("resolved", "pending", "closed")
        if (who, status) != ("ken", "closed")  # Ken may close his own ticket: see the end of this module
    ],
)
def test_status_is_refused_to_those_without_the_right(desk, ken_ticket, kim, who, status):
    actor = {"bill": desk.bill.user, "olga": desk.olga.user, "ken": desk.ken, "kim": kim}[who]

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.set_status(actor, ken_ticket, status=getattr(desk, status))


def test_role_without_the_close_permission_can_resolve_but_not_close(desk, ken_ticket):
    resolver = Role.objects.create(name="Resolver", permissions=["view", "reply", "status"])
    Membership.objects.filter(agent=desk.olga).update(role=resolver)

    ticket = services.set_status(desk.olga.user, ken_ticket, status=desk.resolved)
    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.set_status(desk.olga.user, ticket, status=desk.closed)


def test_only_an_administrator_can_reopen_an_archived_ticket(desk, ken_ticket, set_state, superagent):
    ticket = set_state(ken_ticket, State.ARCHIVED)

    for status in (desk.open, desk.resolved, desk.closed):
        with pytest.raises(PermissionDenied), unchanged(ticket):
            services.set_status(desk.john.user, ticket, status=status)
    # Only an administrator can bring it back (tests/security/test_archiving.py).
    services.set_status(superagent, ticket, status=desk.open)


def test_status_from_a_stale_page_is_refused(desk, ken_ticket):
    ticket = services.set_priority(desk.john.user, ken_ticket, priority=desk.sev_b)

    with pytest.raises(services.StaleTicket), unchanged(ticket):
        services.set_status(desk.john.user, ticket, status=desk.resolved, expected_version=ken_ticket.version)


def test_a_failure_half_way_through_resolving_leaves_the_ticket_open(desk, ken_ticket, fail_midway):
    with pytest.raises(fail_midway), unchanged(ken_ticket):
        services.set_status(desk.john.user, ken_ticket, status=desk.resolved, note="Fixed.")


# ---------------------------------------------------------------------------- the customer closes


def test_customer_closes_their_own_ticket(desk, ken_ticket):
    ticket = fresh(services.close_by_user(desk.ken, ken_ticket))

    assert (ticket.state, ticket.status) == (State.CLOSED, desk.closed)
    assert ticket.closed_at == ticket.updated_at
    assert ticket.version == ken_ticket.version + 1
    [event] = events(ticket, EventKind.STATUS)
    assert (event.actor, event.before, event.after) == (desk.ken, "Open", "Closed")


def test_customer_cannot_close_a_ticket_twice(desk, ken_ticket):
    ticket = services.close_by_user(desk.ken, ken_ticket)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.close_by_user(desk.ken, ticket)


def test_person_copied_on_the_ticket_cannot_close_it(desk, ken_ticket, kim):
    Collaborator.objects.create(ticket=ken_ticket, user=kim)

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.close_by_user(kim, ken_ticket)


def test_stranger_cannot_close_kens_ticket(desk, ken_ticket, kim):
    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.close_by_user(kim, ken_ticket)


def test_customer_cannot_close_an_archived_ticket(desk, ken_ticket, set_state):
    ticket = set_state(ken_ticket, State.ARCHIVED)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.close_by_user(desk.ken, ticket)


def test_a_failure_half_way_through_the_customer_closing_leaves_the_ticket_open(desk, ken_ticket, fail_midway):
    with pytest.raises(fail_midway), unchanged(ken_ticket):
        services.close_by_user(desk.ken, ken_ticket)
