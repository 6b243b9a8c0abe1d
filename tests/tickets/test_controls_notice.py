"""policy.controls_notice: the ticket page's one line on why some everyday controls are missing.
One test per reason; the page that shows it is tested in tests/staff/test_controls_notice.py."""

from __future__ import annotations

from tessera.tickets import policy, services
from tessera.tickets.models import Ticket

EVERYTHING = set(policy.DAILY_CONTROLS)


def shown(actor, ticket) -> set[str]:
    """What the page shows: every everyday control that policy allows (status as settable states)."""
    allowed = {action for action in policy.DAILY_CONTROLS if policy.can(actor, action, ticket)}
    if not policy.settable_states(actor, ticket):
        allowed.discard(policy.Action.STATUS)
    return allowed


def notice(actor, ticket) -> str:
    ticket = Ticket.objects.get(pk=ticket.pk)
    return policy.controls_notice(actor, ticket, shown(actor, ticket))


def test_nothing_is_said_when_every_control_is_there(desk, ken_ticket):
    assert shown(desk.john.user, ken_ticket) == EVERYTHING
    assert notice(desk.john.user, ken_ticket) == ""


def test_a_follower_is_told_who_handles_the_ticket_and_what_he_can_still_do(desk, ken_ticket):
    services.transfer(desk.john.user, ken_ticket, department=desk.sysadmin)

    assert notice(desk.john.user, ken_ticket) == (
        "You follow this ticket; System Administration handles it now. You can reply and add notes."
    )


def test_an_observer_is_told_her_role(desk, ken_ticket):
    assert notice(desk.olga.user, ken_ticket) == "Your role in Support is Observer. You can add notes."


def test_an_agent_reaching_the_ticket_through_its_assignment_is_told_which_role_applies(desk, ken_ticket):
    services.assign(desk.john.user, ken_ticket, agent=desk.bill)
    ticket = Ticket.objects.get(pk=ken_ticket.pk)
    restricted = shown(desk.bill.user, ticket) - {policy.Action.TRANSFER}

    assert policy.controls_notice(desk.bill.user, ticket, restricted) == (
        "This ticket reaches you through its assignment, with your Agent role from Billing. "
        "You can reply, add notes, assign it, change its priority and change its status."
    )


def test_a_closed_ticket_says_how_to_reopen_it(desk, ken_ticket, set_state):
    closed = set_state(ken_ticket, "closed")

    assert notice(desk.john.user, closed) == (
        "This ticket is closed: reopen it (change its status) to reply or change it. "
        "You can add notes and change its status."
    )


def test_a_closed_ticket_seen_by_someone_who_cannot_reopen_it(desk, ken_ticket, set_state):
    closed = set_state(ken_ticket, "closed")

    assert notice(desk.olga.user, closed) == "This ticket is closed. You can add notes."


def test_an_archived_ticket_can_only_be_read(desk, ken_ticket, set_state):
    archived = set_state(ken_ticket, "archived")

    assert notice(desk.john.user, archived) == "This ticket is archived. You can read it, but not change it."


def test_a_merged_ticket_points_to_where_the_conversation_went(desk, ken_ticket, superagent):
    survivor = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer again", message="Still jammed.", topic=desk.general
    )
    services.merge(superagent, survivor, sources=[ken_ticket])

    assert notice(desk.john.user, ken_ticket) == (
        f"This ticket was merged into {survivor.reference}, where its conversation continues. You can add notes."
    )
