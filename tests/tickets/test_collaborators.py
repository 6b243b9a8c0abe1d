"""People copied on a ticket: they see it, may reply to it, and get its public replies."""

from __future__ import annotations

import pytest

from django.core.exceptions import PermissionDenied, ValidationError

from tessera.accounts.models import User
from tessera.tickets import policy, services
from tessera.tickets.models import Collaborator, EntryKind, EventKind, State

from .helpers import events, fresh, unchanged


def test_agent_copies_a_colleague_of_the_customer_on_the_ticket(desk, ken_ticket, kim):
    assert not policy.can(kim, "view", ken_ticket)

    collab = services.add_collaborator(desk.john.user, ken_ticket, user=kim)

    assert (collab.ticket_id, collab.user) == (ken_ticket.pk, kim)
    ticket = fresh(ken_ticket)
    assert ticket.version == ken_ticket.version + 1
    [event] = events(ticket, EventKind.COLLABORATOR_ADDED)
    assert (event.actor, event.before, event.after) == (desk.john.user, "", "kim@example.com")
    assert event.data == {"user_id": kim.pk}
    assert event.created_at == ticket.updated_at == collab.created_at
    assert policy.can(kim, "view", ticket) and policy.can(kim, "reply", ticket)
    assert not policy.can(kim, "close", ticket)


def test_agent_removes_someone_from_the_ticket_and_they_lose_sight_of_it(desk, ken_ticket, kim):
    services.add_collaborator(desk.john.user, ken_ticket, user=kim)
    copied = fresh(ken_ticket)

    services.remove_collaborator(desk.john.user, copied, user=kim)

    ticket = fresh(ken_ticket)
    assert not Collaborator.objects.filter(ticket=ticket).exists()
    assert ticket.version == copied.version + 1
    [event] = events(ticket, EventKind.COLLABORATOR_REMOVED)
    assert (event.actor, event.before, event.after) == (desk.john.user, "kim@example.com", "")
    assert not policy.can(kim, "view", ticket)


def test_the_requester_cannot_be_copied_on_their_own_ticket(desk, ken_ticket):
    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.add_collaborator(desk.john.user, ken_ticket, user=desk.ken)

    assert exc.value.message_dict == {"email": ["Ken Adams opened this ticket."]}


def test_copying_someone_twice_is_refused(desk, ken_ticket, kim):
    services.add_collaborator(desk.john.user, ken_ticket, user=kim)
    ticket = fresh(ken_ticket)

    with pytest.raises(ValidationError) as exc, unchanged(ticket):
        services.add_collaborator(desk.john.user, ticket, user=kim)

    assert exc.value.message_dict == {"email": ["Kim Lee is already copied."]}


def test_removing_someone_who_is_not_copied_is_refused(desk, ken_ticket, kim):
    with pytest.raises(ValidationError), unchanged(ken_ticket):
        services.remove_collaborator(desk.john.user, ken_ticket, user=kim)


def test_a_disabled_account_cannot_be_copied(desk, ken_ticket, kim):
    kim.is_active = False
    kim.save()

    with pytest.raises(ValidationError), unchanged(ken_ticket):
        services.add_collaborator(desk.john.user, ken_ticket, user=kim)


@pytest.mark.parametrize("who", ["bill", "olga", "ken", "kim"])
def test_only_agents_who_manage_the_ticket_choose_who_is_copied(desk, ken_ticket, kim, who):
    other = User.objects.create_user("lou@example.com", name="Lou")
    actor = {"bill": desk.bill.user, "olga": desk.olga.user, "ken": desk.ken, "kim": kim}[who]
    if who == "kim":
        Collaborator.objects.create(ticket=ken_ticket, user=kim)

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.add_collaborator(actor, ken_ticket, user=other)
    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.remove_collaborator(actor, ken_ticket, user=kim)


@pytest.mark.parametrize("state", [State.CLOSED, State.ARCHIVED])
def test_who_is_copied_on_a_finished_ticket_is_frozen(desk, ken_ticket, kim, set_state, state):
    Collaborator.objects.create(ticket=ken_ticket, user=kim)
    ticket = set_state(ken_ticket, state)
    other = User.objects.create_user("lou@example.com", name="Lou")

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.add_collaborator(desk.john.user, ticket, user=other)
    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.remove_collaborator(desk.john.user, ticket, user=kim)


def test_agent_copied_on_a_ticket_outside_their_department_follows_it_as_a_customer_would(desk, ken_ticket):
    services.add_collaborator(desk.john.user, ken_ticket, user=desk.bill.user)
    ticket = fresh(ken_ticket)

    assert policy.can(desk.bill.user, "view", ticket)
    assert not policy.can(desk.bill.user, "assign", ticket)
    assert not policy.can(desk.bill.user, "note", ticket)
    assert not policy.acts_as_agent(desk.bill.user, ticket)
    entry = services.reply(desk.bill.user, ticket, message="Billing's printer does it too.")
    assert entry.kind == EntryKind.MESSAGE


def test_a_failure_half_way_through_copying_leaves_nobody_copied(desk, ken_ticket, kim, fail_midway):
    with pytest.raises(fail_midway), unchanged(ken_ticket):
        services.add_collaborator(desk.john.user, ken_ticket, user=kim)


def test_a_failure_half_way_through_uncopying_leaves_them_copied(desk, ken_ticket, kim, fail_midway):
    Collaborator.objects.create(ticket=ken_ticket, user=kim)

    with pytest.raises(fail_midway), unchanged(ken_ticket):
        services.remove_collaborator(desk.john.user, ken_ticket, user=kim)


# ---------------------------------------------------------------------------- by address (the workspace's field)


def test_agent_copies_someone_new_by_their_address_and_they_get_an_account(desk, ken_ticket):
    collab = services.add_collaborator_by_email(desk.john.user, ken_ticket, email=" Lou@Example.com ")

    lou = User.objects.get(email="lou@example.com")
    assert (collab.ticket_id, collab.user) == (ken_ticket.pk, lou)
    assert not lou.has_usable_password() and lou.agent_or_none is None
    [event] = events(fresh(ken_ticket), EventKind.COLLABORATOR_ADDED)
    assert (event.actor, event.after) == (desk.john.user, "lou@example.com")


def test_copying_an_existing_person_by_address_uses_their_account(desk, ken_ticket, kim):
    collab = services.add_collaborator_by_email(desk.john.user, ken_ticket, email="KIM@example.com")

    assert collab.user == kim
    assert User.objects.filter(email="kim@example.com").count() == 1


@pytest.mark.parametrize("who", ["olga", "ken"])
def test_an_address_the_ticket_refuses_leaves_no_account_behind(desk, ken_ticket, who):
    actor = {"olga": desk.olga.user, "ken": desk.ken}[who]

    with pytest.raises(PermissionDenied), unchanged(ken_ticket):
        services.add_collaborator_by_email(actor, ken_ticket, email="lou@example.com")

    assert not User.objects.filter(email="lou@example.com").exists()


def test_copying_by_address_on_a_closed_ticket_leaves_no_account_behind(desk, ken_ticket, set_state):
    ticket = set_state(ken_ticket, State.CLOSED)

    with pytest.raises(PermissionDenied), unchanged(ticket):
        services.add_collaborator_by_email(desk.john.user, ticket, email="lou@example.com")

    assert not User.objects.filter(email="lou@example.com").exists()


def test_a_failure_half_way_through_copying_by_address_leaves_no_account_behind(desk, ken_ticket, fail_midway):
    with pytest.raises(fail_midway), unchanged(ken_ticket):
        services.add_collaborator_by_email(desk.john.user, ken_ticket, email="lou@example.com")

    assert not User.objects.filter(email="lou@example.com").exists()
    assert not Collaborator.objects.filter(ticket=ken_ticket).exists()


@pytest.mark.parametrize("email", ["", "not an address", "lou@", "<script>@example.com"])
def test_copying_a_bad_address_is_explained_at_the_email_field(desk, ken_ticket, email):
    users = User.objects.count()

    with pytest.raises(ValidationError) as exc, unchanged(ken_ticket):
        services.add_collaborator_by_email(desk.john.user, ken_ticket, email=email)

    assert exc.value.message_dict == {"email": ["Enter a valid email address."]}
    assert User.objects.count() == users
