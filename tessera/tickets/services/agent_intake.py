"""Tickets an agent opens on someone's behalf: a phone call, a visit to the desk, a letter.

One transaction finds or makes the end user, opens the ticket through `intake.open_ticket` (so
the routing rules and the SLA apply as on every other channel), then assigns it, adds the
agent's internal note and copies other people on it through their own services, each leaving
its usual Event. A refusal at any step (a rule, a right the agent lacks where the ticket
landed, an assignee the department does not allow, a bad address) rolls everything back: no
half-made ticket, no account made for nothing. Tests: tests/tickets/test_agent_intake.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tessera.accounts.models import Agent, Department, Team, User
from tessera.accounts.services import end_user_for_email

from .. import attachments as attachment_store
from .. import policy
from ..models import HelpTopic, Priority, Source, Ticket
from ..policy import Action
from . import rules_applied
from .collaborators import add_collaborator_by_email
from .common import _deny
from .conversation import add_note
from .intake import open_ticket
from .routing import assign

# The ways a person reaches an agent who then opens the ticket for them.
AGENT_SOURCES = (Source.PHONE, Source.WALK_IN, Source.EMAIL, Source.OTHER)


@dataclass(frozen=True)
class NewRequester:
    """Someone the desk does not know yet: the account is made (without a password) from this."""

    email: str
    name: str = ""
    phone: str = ""


def open_ticket_for_caller(
    actor: User,
    *,
    requester: User | None = None,
    new_requester: NewRequester | None = None,
    subject: str,
    message: str,
    topic: HelpTopic | None = None,
    department: Department | None = None,
    priority: Priority | None = None,
    source: str = Source.PHONE,
    assignee: Agent | None = None,
    team: Team | None = None,
    internal_note: str = "",
    uploads: Sequence[attachment_store.Upload] = (),
    collaborators: Sequence[str] = (),
    notify_user: bool = True,
    custom_values: Mapping[str, object] | None = None,
) -> Ticket:
    """Open a ticket for an existing end user (`requester`) or a new one (`new_requester`).

    `collaborators` are email addresses to copy on the ticket; `notify_user=False` sends the
    requester no acknowledgement (they are on the phone). `custom_values` are the answers to the
    topic's custom fields, checked and saved by open_ticket. Errors name the form's fields:
    requester, requester_email, department, topic, assignee, team, internal_note, collaborators.
    """
    if policy.workspace_agent(actor) is None or not actor.is_active:
        raise _deny(_("Only agents can open tickets on behalf of someone else."))
    where = department if department is not None else (topic.department if topic is not None else None)
    addresses = _addresses(collaborators)
    _check_before(
        actor, requester, new_requester, where, department, source, priority, assignee, team, internal_note, addresses
    )
    try:
        with transaction.atomic():
            person = requester if requester is not None else _new_person(actor, new_requester)
            ticket = open_ticket(
                actor,
                requester=person,
                subject=subject,
                message=message,
                topic=topic,
                department=department,
                priority=priority,
                source=source,
                uploads=uploads,
                keep_refusal=False,
                acknowledge=notify_user,
                custom_values=custom_values,
            )
            landed = cast(Department, where)  # open_ticket refused a ticket with no topic and no department
            _assign(actor, ticket, assignee, team, landed)
            if internal_note.strip():
                _as_field(lambda: add_note(actor, ticket, note=internal_note), ticket, "internal_note", where=landed)
            for address in addresses:
                _as_field(
                    partial(add_collaborator_by_email, actor, ticket, email=address),
                    ticket,
                    "collaborators",
                    where=landed,
                    prefix=address,
                )
            ticket.refresh_from_db()
            return ticket
    except rules_applied.TicketRefused as refused:
        rules_applied.record_refusal(refused)
        raise


def _check_before(
    actor: User,
    requester: User | None,
    new_requester: NewRequester | None,
    where: Department | None,
    department: Department | None,
    source: str,
    priority: Priority | None,
    assignee: Agent | None,
    team: Team | None,
    internal_note: str,
    addresses: Sequence[str],
) -> None:
    """What can be refused before anything is written, on the field that asked for it."""
    errors: dict[str, list[str]] = {}
    if (requester is None) == (new_requester is None):
        errors["requester"] = [_("Choose the person the ticket is for, or give a new person's email address.")]
    elif requester is not None and not policy.may_be_requester(requester):
        errors["requester"] = [_("%(name)s works on the help desk; choose an end user.") % {"name": requester}]
    if source not in AGENT_SOURCES:
        errors["source"] = [_("Choose how the request reached you.")]
    if where is not None:
        field = "department" if department is not None else "topic"
        if not policy.can_open_in(actor, where):
            errors[field] = [_("You cannot open tickets in %(dept)s.") % {"dept": where.name}]
        else:
            if priority is not None and not policy.can_act_in(actor, Action.PRIORITY, where):
                errors["priority"] = [_("You cannot set the priority of tickets in %(dept)s.") % {"dept": where.name}]
            if (assignee is not None or team is not None) and not policy.can_act_in(actor, Action.ASSIGN, where):
                errors["assignee"] = [_("You cannot assign tickets in %(dept)s.") % {"dept": where.name}]
            if internal_note.strip() and not policy.can_act_in(actor, Action.NOTE, where):
                errors["internal_note"] = [_("You cannot add notes to tickets in %(dept)s.") % {"dept": where.name}]
            if addresses and not policy.can_act_in(actor, Action.MANAGE, where):
                errors["collaborators"] = [_("You cannot copy people on tickets in %(dept)s.") % {"dept": where.name}]
    if errors:
        raise ValidationError(errors)


def _addresses(collaborators: Sequence[str]) -> list[str]:
    """The addresses to copy, each once, in the order given."""
    seen: dict[str, None] = {}
    for address in collaborators:
        address = address.strip().lower()
        if address:
            seen.setdefault(address, None)
    return list(seen)


def _new_person(actor: User, new: NewRequester | None) -> User:
    if new is None or not policy.can_edit_person(actor, None):
        raise _deny(_("You cannot add people to the desk."))
    try:
        person = end_user_for_email(email=new.email, name=new.name, phone=new.phone)
    except ValidationError as exc:
        raise ValidationError({"requester_email": exc.messages}) from None
    if not policy.may_be_requester(person):
        raise ValidationError(
            {"requester_email": _("This address belongs to a member of the help desk staff; choose an end user.")}
        )
    return person


def _assign(actor: User, ticket: Ticket, assignee: Agent | None, team: Team | None, where: Department) -> None:
    """The agent's choice wins over what a rule or automatic assignment did; nothing is done
    when the ticket already sits with them."""
    wanted = (assignee is not None and assignee.pk != ticket.assignee_id) or (
        team is not None and team.pk != ticket.team_id
    )
    if not wanted:
        return
    field = "team" if assignee is None else "assignee"
    _as_field(lambda: assign(actor, ticket, agent=assignee, team=team), ticket, field, where=where)


def _as_field(step: Callable[[], object], ticket: Ticket, field: str, *, where: Department, prefix: str = "") -> None:
    """Run one follow-up service with its refusals put on the form's `field`. A refusal because a
    routing rule sent the ticket where the agent lacks that right says so."""
    try:
        step()
    except PermissionDenied as exc:
        message = str(exc)
        if ticket.department_id != where.pk:
            message = _("A routing rule sent the ticket to %(dept)s, where %(why)s Nothing was saved.") % {
                "dept": ticket.department.name,
                "why": message[:1].lower() + message[1:],
            }
        raise ValidationError({field: [message]}) from None
    except ValidationError as exc:
        messages = [f"{prefix}: {m}" if prefix else m for m in exc.messages]
        raise ValidationError({field: messages}) from None
