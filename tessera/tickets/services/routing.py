"""Who works the ticket: assign, claim, release and transfer to another department.

An agent who sends a ticket out of their own reach keeps following it (a referral, see
`common._keep_following`). Tests: tests/tickets/test_assignment.py and
tests/tickets/test_transfer_and_referral.py.
"""

from __future__ import annotations

import copy
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import Agent, Department, Team, User

from .. import notifications, policy
from ..models import EntryKind, EventKind, Source, Ticket
from ..policy import Action
from .auto_assign import assign_automatically
from .common import _deny, _entry, _event, _keep_following, _lock, _on_commit, _require, _touch, _validate_note
from .sla import due_change, sla_refresh


def _check_assignable(
    agent: Agent | None, team: Team | None, ticket: Ticket, department: Department | None = None
) -> None:
    """Refuse an assignee or team who cannot take the ticket, on the field that named them.

    `department` is where the ticket is going (a transfer), or None for where it is."""
    if agent is not None and (not agent.is_active or not agent.user.is_active):
        raise ValidationError({"agent": _("%(name)s is no longer an active agent.") % {"name": agent.name}})
    if agent is not None and not agent.is_available:
        raise ValidationError({"agent": _("%(name)s is not available for assignment.") % {"name": agent.name}})
    if team is not None and not team.is_active:
        raise ValidationError({"team": _("The team %(name)s is not active.") % {"name": team.name}})
    if agent is not None and not policy.may_be_assigned(agent, ticket, department=department, team=team):
        dept = department if department is not None else ticket.department
        raise ValidationError(
            {
                "agent": _(
                    "%(name)s is not a member of %(department)s, which assigns its tickets only to its own "
                    "agents. Choose one of them, or a team %(name)s belongs to."
                )
                % {"name": agent.name, "department": dept.name}
            }
        )


def _apply_assignment(actor: User, ticket: Ticket, agent: Agent | None, team: Team | None, now: datetime) -> list[str]:
    changed = []
    if agent is not None and agent.pk != ticket.assignee_id:
        before = ticket.assignee.name if ticket.assignee is not None else ""
        ticket.assignee = agent
        _event(ticket, actor, EventKind.ASSIGNED, before, agent.name, now=now, agent_id=agent.pk)
        changed.append("assignee")
    if team is not None and team.pk != ticket.team_id:
        before = ticket.team.name if ticket.team is not None else ""
        ticket.team = team
        _event(ticket, actor, EventKind.ASSIGNED, before, team.name, now=now, team_id=team.pk)
        changed.append("team")
        if agent is None and ticket.assignee is not None:
            # Handing to a team puts it back in the team's pool; the timeline says who took it off the agent.
            _event(ticket, actor, EventKind.RELEASED, ticket.assignee.name, "", now=now)
            ticket.assignee = None
            changed.append("assignee")
    return changed


def assign(
    actor: User,
    ticket: Ticket,
    *,
    agent: Agent | None = None,
    team: Team | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """Hand the ticket to an agent or a team, optionally explaining why in an internal note."""
    denied = _("You cannot assign this ticket.")
    _require(actor, Action.ASSIGN, ticket, denied)
    if agent is None and team is None:
        raise ValidationError({"agent": _("Choose an agent or a team.")})
    _check_assignable(agent, team, ticket)
    _validate_note(note)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Action.ASSIGN, message=denied)
        _check_assignable(agent, team, ticket)  # the ticket may have moved while the form was open
        changed = _apply_assignment(actor, ticket, agent, team, now)
        if not changed:
            raise ValidationError({"agent": _("The ticket is already assigned that way.")})
        if agent is None and "team" in changed:
            # Handed to a team without an agent: the team's own automatic assignment picks one.
            changed += assign_automatically(ticket, now=now)
        note_entry = _entry(ticket, actor, EntryKind.NOTE, note, Source.STAFF, now=now) if note.strip() else None
        _touch(ticket, now, *dict.fromkeys(changed))
        _keep_following(actor, ticket)
        agent_id = agent.pk if agent is not None and "assignee" in changed else None
        team_id = team.pk if team is not None and "team" in changed else None
        _on_commit(lambda: notifications.assigned(ticket.pk, actor.pk, agent_id, team_id))
        if note_entry:
            _on_commit(lambda: notifications.entry_posted(ticket.pk, note_entry.pk, actor.pk, note_entry.kind))
    return ticket


def _could_claim_if_free(actor: User, ticket: Ticket) -> bool:
    """Would policy let `actor` claim `ticket` if nobody had it? (Decides between
    "you may not" and "someone else was quicker".)"""
    probe = copy.copy(ticket)
    probe.assignee_id = None
    return policy.can(actor, Action.CLAIM, probe)


def claim(actor: User, ticket: Ticket, *, expected_version: int | None = None) -> Ticket:
    """Take an unassigned ticket for yourself."""
    denied = _("You cannot claim this ticket.")
    if not _could_claim_if_free(actor, ticket):
        raise _deny(denied)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version)
        if not _could_claim_if_free(actor, ticket):
            raise _deny(denied)
        if ticket.assignee is not None:
            # A colleague was quicker (or the page was old): say who has it.
            raise ValidationError(
                _("%(name)s already has this ticket. Ask them, or reassign it.") % {"name": ticket.assignee.name}
            )
        ticket.assignee = actor.agent
        _event(ticket, actor, EventKind.CLAIMED, "", actor.display_name, now=now)
        _touch(ticket, now, "assignee")
    return ticket


def release(actor: User, ticket: Ticket, *, expected_version: int | None = None) -> Ticket:
    """Give a ticket back to the department's (or team's) pool."""
    denied = _("You cannot release this ticket.")
    _require(actor, Action.RELEASE, ticket, denied)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Action.RELEASE, message=denied)
        if ticket.assignee is None:
            raise ValidationError(_("Nobody is assigned to this ticket."))
        before = ticket.assignee.name
        ticket.assignee = None
        _event(ticket, actor, EventKind.RELEASED, before, "", now=now)
        _touch(ticket, now, "assignee")
    return ticket


def transfer(
    actor: User,
    ticket: Ticket,
    *,
    department: Department,
    agent: Agent | None = None,
    team: Team | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """Move the ticket to another department, optionally straight to an agent or team there.

    An agent who sends it out of their departments keeps following it."""
    denied = _("You cannot transfer this ticket.")
    cannot_assign = _("You can transfer this ticket but not assign it.")
    _require(actor, Action.TRANSFER, ticket, denied)
    if department.pk == ticket.department_id and agent is None and team is None:
        raise ValidationError({"department": _("The ticket is already in %(dept)s.") % {"dept": department.name}})
    if agent or team:
        _require(actor, Action.ASSIGN, ticket, cannot_assign)
    _check_assignable(agent, team, ticket, department)
    _validate_note(note)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Action.TRANSFER, message=denied)
        if agent or team:
            _require(actor, Action.ASSIGN, ticket, cannot_assign)
        changed = []
        moved = department.pk != ticket.department_id
        if moved:
            before = ticket.department.name
            due_before = ticket.due_at
            ticket.department = department
            changed.append("department")
            changed += sla_refresh(ticket, now, replan=True)  # the new department may promise otherwise
            _event(
                ticket,
                actor,
                EventKind.TRANSFERRED,
                before,
                department.name,
                now=now,
                department_id=department.pk,
                **due_change(due_before, ticket),
            )
            if agent is None and ticket.assignee is not None and not _reaches_department(ticket.assignee, department):
                # The old assignee does not work in the new department: back to its pool.
                _event(ticket, actor, EventKind.RELEASED, ticket.assignee.name, "", now=now)
                ticket.assignee = None
                changed.append("assignee")
        assigned = _apply_assignment(actor, ticket, agent, team, now)
        changed += assigned
        if ticket.assignee is None and (moved or "team" in assigned):
            # Arrived without an agent: the new department's (or team's) automatic assignment.
            changed += assign_automatically(ticket, now=now)
        if not changed:
            raise ValidationError({"department": _("The ticket is already there, assigned that way.")})
        note_entry = _entry(ticket, actor, EntryKind.NOTE, note, Source.STAFF, now=now) if note.strip() else None
        _touch(ticket, now, *dict.fromkeys(changed))
        _keep_following(actor, ticket)
        if moved:
            _on_commit(lambda: notifications.transferred(ticket.pk, actor.pk))
        if assigned:
            agent_id = agent.pk if agent is not None and "assignee" in assigned else None
            team_id = team.pk if team is not None and "team" in assigned else None
            _on_commit(lambda: notifications.assigned(ticket.pk, actor.pk, agent_id, team_id))
        if note_entry:
            _on_commit(lambda: notifications.entry_posted(ticket.pk, note_entry.pk, actor.pk, note_entry.kind))
    return ticket


def _reaches_department(agent: Agent, department: Department) -> bool:
    return agent.memberships.filter(department=department).exists()
