"""Every change to a ticket happens here.

Each service takes the acting user first, asks policy.can, changes the models in
one transaction (locking the ticket row), writes timeline Events, and queues
notifications with the change (notifications.with_change) so mail only goes out for data
that is committed.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera import process_memo
from tessera.accounts.models import Agent, Department, Perm, Team, User
from tessera.accounts.services import end_user_for_email
from tessera.search.index import index_new_ticket, index_ticket

from . import attachments as attachment_store
from . import notifications, policy
from .content import clean_html, clean_line, from_text
from .models import (
    Collaborator,
    Counter,
    EntryKind,
    Event,
    EventKind,
    HelpTopic,
    Priority,
    Referral,
    Source,
    State,
    Status,
    ThreadEntry,
    Ticket,
    TicketLink,
)

FIRST_TICKET_NUMBER = 100001


class StaleTicket(ValidationError):
    """The ticket changed after the form was loaded; the caller shows the news and keeps the input."""


# ---------------------------------------------------------------------------- helpers


def _deny(message: str) -> PermissionDenied:
    return PermissionDenied(message)


def _require(actor: User | None, action: str, ticket: Ticket, message: str) -> None:
    if not policy.can(actor, action, ticket):
        raise _deny(message)


def _lock(
    ticket: Ticket,
    expected_version: int | None,
    *,
    actor: User | None = None,
    action: str | None = None,
    message: str = "",
) -> Ticket:
    """Re-read the ticket under a row lock, check `action` again on what is really there
    (the caller's copy may predate a transfer or a close), and refuse stale edits."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if action is not None:
        _require(actor, action, locked, message)
    if expected_version is not None and locked.version != expected_version:
        raise StaleTicket(
            _("Ticket %(ref)s changed while you were working on it. Review the latest activity, then try again.")
            % {"ref": locked.reference},
            code="stale",
        )
    return locked


def _touch(ticket: Ticket, now, *fields: str) -> None:
    ticket.updated_at = now
    ticket.version = F("version") + 1
    # Django reads the new version back with the UPDATE (RETURNING): no refresh needed.
    ticket.save(update_fields=["updated_at", "version", *fields])


def _event(
    ticket: Ticket, actor: User | None, kind: str, before: str = "", after: str = "", *, now=None, **data
) -> Event:
    return Event.objects.create(
        ticket=ticket,
        kind=kind,
        actor=actor,
        actor_name=actor.display_name if actor else _("System"),
        before=str(before)[:255],
        after=str(after)[:255],
        data=data,
        created_at=now or timezone.now(),
    )


def _on_commit(callback) -> None:
    notifications.with_change(callback)


def _validate_body(text: str, field: str) -> None:
    if not (text or "").strip():
        raise ValidationError({field: _("Write a message first.")})
    _validate_length(text, field)


def _validate_note(note: str) -> None:
    """The optional note that explains an assignment, transfer or status change."""
    _validate_length(note or "", "note")


def _validate_length(text: str, field: str) -> None:
    limit = settings.TESSERA["MAX_MESSAGE_LENGTH"]
    if len(text) > limit:
        raise ValidationError(
            {field: _("This is %(n)d characters long; the limit is %(limit)d.") % {"n": len(text), "limit": limit}}
        )


def _entry(
    ticket: Ticket,
    actor: User | None,
    kind: str,
    text: str,
    source: str,
    uploads: Sequence[attachment_store.Upload] = (),
    now=None,
    html: str | None = None,
    opening: bool = False,
) -> ThreadEntry:
    # Mail arrives as HTML with a plain-text twin already made: keep its formatting rather than
    # reading the text as Markdown. Sanitising again costs little and guards every caller.
    body_html, body_text = (clean_html(html), text.replace("\r\n", "\n").strip()) if html else from_text(text)
    entry = ThreadEntry.objects.create(
        ticket=ticket,
        kind=kind,
        author=actor,
        author_name=actor.display_name if actor else "",
        body_html=body_html,
        body_text=body_text,
        source=source,
        created_at=now or timezone.now(),
    )
    if uploads:
        attachment_store.store(entry, list(uploads))
    # Every entry is written inside its service's transaction: so is its search document.
    if opening:
        index_new_ticket(ticket, entry.pk, entry.body_text)
    else:
        index_ticket(ticket.pk, written=(entry.pk, entry.body_text))
    return entry


@process_memo.memo("tickets.Status")
def _default_statuses() -> dict[str, Status]:
    """Each state's default status (else its first), read at most every few seconds per
    process: every ticket opened by mail needs one (tessera.process_memo)."""
    found: dict[str, Status] = {}
    for status in Status.objects.order_by("order", "name"):
        current = found.get(status.state)
        if current is None or (status.is_default and not current.is_default):
            found[status.state] = status
    return found


def default_status(state: str) -> Status:
    status = _default_statuses().get(state)
    if status is None:
        raise ValidationError(_("No status is configured for the “%(state)s” state.") % {"state": State(state).label})
    return status


def _next_number() -> int:
    # The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) until commit,
    # so concurrent creators queue here; Ticket.number's unique constraint backs it up.
    # One statement (RETURNING, both databases) where the ORM needed three.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Counter._meta.db_table} SET value = value + 1 WHERE name = %s RETURNING value", ["ticket"]
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    Counter.objects.get_or_create(name="ticket", defaults={"value": FIRST_TICKET_NUMBER - 1})
    return _next_number()


def _keep_following(actor: User | None, ticket: Ticket) -> None:
    """An agent who sends a ticket out of their reach keeps following it (a referral)."""
    agent = actor.agent_or_none if actor else None
    if agent is None or actor.is_superuser:
        return
    if not policy.access(agent, ticket).via_department and ticket.assignee_id != agent.pk:
        _referral, created = Referral.objects.get_or_create(ticket=ticket, agent=agent)
        if created:
            _event(ticket, actor, EventKind.REFERRED, after=agent.name, agent_id=agent.pk)


# ---------------------------------------------------------------------------- intake


def open_ticket(
    actor: User,
    *,
    requester: User,
    subject: str,
    message: str,
    topic: HelpTopic | None = None,
    department: Department | None = None,
    priority: Priority | None = None,
    source: str = Source.WEB,
    uploads: Sequence[attachment_store.Upload] = (),
    html: str | None = None,
    routed: bool = False,
) -> Ticket:
    """Open a ticket for `requester`. The actor is the requester on the portal, or an agent.

    `html` is an already-made HTML body whose plain-text twin is `message` (mail). `routed`
    says the desk's own routing chose the department (the mailbox a message arrived in), so
    the end user may land in a department that is not offered on the portal."""
    if not policy.can(actor, "open"):
        raise _deny(_("Sign in or give your email address to open a ticket."))
    is_agent = actor.is_agent
    if actor.pk != requester.pk and not is_agent:
        raise _deny(_("Only agents can open tickets on behalf of someone else."))
    errors: dict[str, list[str]] = {}
    if not requester.is_active:
        errors.setdefault("requester", []).append(
            _("%(name)s cannot open tickets: their account is disabled.") % {"name": requester.display_name}
        )
    subject = clean_line(subject)
    if not subject:
        errors.setdefault("subject", []).append(_("Give the ticket a subject."))
    elif len(subject) > settings.TESSERA["MAX_SUBJECT_LENGTH"]:
        errors.setdefault("subject", []).append(
            _("Keep the subject under %(n)d characters.") % {"n": settings.TESSERA["MAX_SUBJECT_LENGTH"]}
        )
    try:
        _validate_body(message, "message")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if topic is not None and (not topic.is_active or (not topic.is_public and not is_agent and not routed)):
        errors.setdefault("topic", []).append(_("Choose one of the help topics listed."))
    elif (
        not is_agent
        and not routed
        and department is not None
        and (not department.is_public or (topic is not None and topic.department_id != department.pk))
    ):
        # End users reach departments through the public help topics only.
        errors.setdefault("topic", []).append(_("Choose one of the help topics listed."))
    if priority is not None and not is_agent:
        # Urgency is the desk's call; end users describe impact in the message.
        errors.setdefault("priority", []).append(_("Only agents can set a ticket's priority."))
    if topic is None and department is None:
        errors.setdefault("topic", []).append(_("Choose a help topic."))
    try:
        attachment_store.validate_uploads(list(uploads))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)

    department = department or topic.department
    priority = priority or (topic.default_priority if topic else None) or _default_priority()
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.create(
            number=_next_number(),
            subject=subject,
            user=requester,
            organization=requester.organization,
            department=department,
            topic=topic,
            priority=priority,
            status=default_status(State.OPEN),
            state=State.OPEN,
            source=source,
            created_at=now,
            updated_at=now,
            last_message_at=now,
        )
        entry = _entry(ticket, requester, EntryKind.MESSAGE, message, source, uploads, now, html, opening=True)
        ticket.opening_entry = entry  # for callers that link to it (mail: the message received)
        _event(ticket, actor, EventKind.CREATED, after=department.name, now=now, source=source)
        _on_commit(lambda: notifications.ticket_opened(ticket.pk, entry.pk, actor.pk))
    return ticket


def open_ticket_for_guest(
    *,
    email: str,
    name: str,
    subject: str,
    message: str,
    topic: HelpTopic | None,
    source: str = Source.WEB,
    uploads: Sequence[attachment_store.Upload] = (),
    department: Department | None = None,
    html: str | None = None,
    routed: bool = False,
) -> Ticket:
    """Intake from someone who is not signed in: find or create the end user behind the address
    and open the ticket in one transaction, so a refused ticket leaves no half-made account.
    Mail passes `department`, `html` and `routed` (see open_ticket)."""
    with transaction.atomic():
        requester = end_user_for_email(email=email, name=name)
        return open_ticket(
            requester,
            requester=requester,
            subject=subject,
            message=message,
            topic=topic,
            department=department,
            source=source,
            uploads=uploads,
            html=html,
            routed=routed,
        )


@process_memo.memo("tickets.Priority")
def _fallback_priority() -> Priority | None:
    """The default priority (else the most urgent), read at most every few seconds per process."""
    return Priority.objects.filter(is_default=True).first() or Priority.objects.order_by("-urgency").first()


def _default_priority() -> Priority:
    priority = _fallback_priority()
    if priority is None:
        raise ValidationError(_("No priorities are configured; an administrator must add one."))
    return priority


# ---------------------------------------------------------------------------- conversation


def reply(
    actor: User,
    ticket: Ticket,
    *,
    message: str,
    uploads: Sequence[attachment_store.Upload] = (),
    status: Status | None = None,
    source: str = Source.WEB,
    expected_version: int | None = None,
    append_signature: bool = False,
    html: str | None = None,
) -> ThreadEntry:
    """A public reply. From an agent it is a response (signed with their signature when asked);
    from the end user, a message (which reopens a pending, resolved or closed ticket)."""
    denied = _("You cannot reply to this ticket.")
    _require(actor, Perm.REPLY, ticket, denied)
    _validate_body(message, "message")
    attachment_store.validate_uploads(list(uploads))
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Perm.REPLY, message=denied)
        if policy.acts_as_agent(actor, ticket):
            signature = actor.agent.signature.strip() if append_signature and actor.agent_or_none else ""
            if signature:
                message = f"{message.rstrip()}\n\n{signature}"
                html = None  # the signature is typed text: render the whole reply from text
            entry = _entry(ticket, actor, EntryKind.RESPONSE, message, source, uploads, now, html)
            ticket.last_response_at = now
            ticket.first_response_at = ticket.first_response_at or now
            ticket.is_answered = True
            fields = ["last_response_at", "first_response_at", "is_answered"]
        else:
            entry = _entry(ticket, actor, EntryKind.MESSAGE, message, source, uploads, now, html)
            ticket.last_message_at = now
            ticket.is_answered = False
            fields = ["last_message_at", "is_answered"]
            if ticket.state in (State.RESOLVED, State.CLOSED, State.PENDING):
                before = ticket.status
                ticket.status = default_status(State.OPEN)
                if ticket.state != State.PENDING:
                    _event(ticket, actor, EventKind.REOPENED, before.name, ticket.status.name, now=now)
                _event(ticket, actor, EventKind.STATUS, before.name, ticket.status.name, now=now, state=State.OPEN)
                ticket.state = State.OPEN
                ticket.resolved_at = None
                ticket.closed_at = None
                fields += ["status", "state", "resolved_at", "closed_at"]
        if status is not None and status.pk != ticket.status_id:
            fields += _apply_status(actor, ticket, status, now)
        _touch(ticket, now, *dict.fromkeys(fields))
        _on_commit(lambda: notifications.entry_posted(ticket.pk, entry.pk, actor.pk, entry.kind))
    return entry


def add_note(
    actor: User,
    ticket: Ticket,
    *,
    note: str,
    uploads: Sequence[attachment_store.Upload] = (),
    expected_version=None,
    source: str = Source.STAFF,
    html: str | None = None,
) -> ThreadEntry:
    """An internal note: agents only, never shown to the end user. An agent's email about the
    ticket becomes one too (source EMAIL, with its HTML)."""
    denied = _("You cannot add notes to this ticket.")
    _require(actor, Perm.NOTE, ticket, denied)
    _validate_body(note, "note")
    attachment_store.validate_uploads(list(uploads))
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Perm.NOTE, message=denied)
        entry = _entry(ticket, actor, EntryKind.NOTE, note, source, uploads, now, html)
        _event(ticket, actor, EventKind.NOTE, now=now, entry_id=entry.pk)
        _touch(ticket, now)
        _on_commit(lambda: notifications.entry_posted(ticket.pk, entry.pk, actor.pk, entry.kind))
    return entry


# ---------------------------------------------------------------------------- routing


def _check_assignable(agent: Agent | None, team: Team | None) -> None:
    if agent is not None and (not agent.is_active or not agent.user.is_active):
        raise ValidationError({"agent": _("%(name)s is no longer an active agent.") % {"name": agent.name}})
    if agent is not None and not agent.is_available:
        raise ValidationError({"agent": _("%(name)s is not available for assignment.") % {"name": agent.name}})
    if team is not None and not team.is_active:
        raise ValidationError({"team": _("The team %(name)s is not active.") % {"name": team.name}})


def _apply_assignment(actor: User, ticket: Ticket, agent: Agent | None, team: Team | None, now) -> list[str]:
    changed = []
    if agent is not None and agent.pk != ticket.assignee_id:
        before = ticket.assignee.name if ticket.assignee_id else ""
        ticket.assignee = agent
        _event(ticket, actor, EventKind.ASSIGNED, before, agent.name, now=now, agent_id=agent.pk)
        changed.append("assignee")
    if team is not None and team.pk != ticket.team_id:
        before = ticket.team.name if ticket.team_id else ""
        ticket.team = team
        _event(ticket, actor, EventKind.ASSIGNED, before, team.name, now=now, team_id=team.pk)
        changed.append("team")
        if agent is None and ticket.assignee_id is not None:
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
    _require(actor, Perm.ASSIGN, ticket, denied)
    if agent is None and team is None:
        raise ValidationError({"agent": _("Choose an agent or a team.")})
    _check_assignable(agent, team)
    _validate_note(note)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Perm.ASSIGN, message=denied)
        changed = _apply_assignment(actor, ticket, agent, team, now)
        if not changed:
            raise ValidationError({"agent": _("The ticket is already assigned that way.")})
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
    return policy.can(actor, "claim", probe)


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
        if ticket.assignee_id is not None:
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
    _require(actor, "release", ticket, denied)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action="release", message=denied)
        if ticket.assignee_id is None:
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
    _require(actor, Perm.TRANSFER, ticket, denied)
    if department.pk == ticket.department_id and agent is None and team is None:
        raise ValidationError({"department": _("The ticket is already in %(dept)s.") % {"dept": department.name}})
    if agent or team:
        _require(actor, Perm.ASSIGN, ticket, cannot_assign)
    _check_assignable(agent, team)
    _validate_note(note)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Perm.TRANSFER, message=denied)
        if agent or team:
            _require(actor, Perm.ASSIGN, ticket, cannot_assign)
        changed = []
        moved = department.pk != ticket.department_id
        if moved:
            before = ticket.department.name
            ticket.department = department
            changed.append("department")
            _event(ticket, actor, EventKind.TRANSFERRED, before, department.name, now=now, department_id=department.pk)
            if agent is None and ticket.assignee_id and not _reaches_department(ticket.assignee, department):
                # The old assignee does not work in the new department: back to its pool.
                _event(ticket, actor, EventKind.RELEASED, ticket.assignee.name, "", now=now)
                ticket.assignee = None
                changed.append("assignee")
        assigned = _apply_assignment(actor, ticket, agent, team, now)
        changed += assigned
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


# ---------------------------------------------------------------------------- priority and status


def set_priority(
    actor: User, ticket: Ticket, *, priority: Priority, note: str = "", expected_version: int | None = None
) -> Ticket:
    denied = _("You cannot change this ticket's priority.")
    _require(actor, Perm.PRIORITY, ticket, denied)
    _validate_note(note)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version, actor=actor, action=Perm.PRIORITY, message=denied)
        if priority.pk == ticket.priority_id:
            raise ValidationError({"priority": _("The priority is already %(name)s.") % {"name": priority.name}})
        before = ticket.priority.name
        ticket.priority = priority
        _event(ticket, actor, EventKind.PRIORITY, before, priority.name, now=now, priority_id=priority.pk)
        if note.strip():
            _entry(ticket, actor, EntryKind.NOTE, note, Source.STAFF, now=now)
        _touch(ticket, now, "priority")
    return ticket


def _status_action(status: Status) -> str:
    return Perm.CLOSE if status.state in (State.CLOSED, State.ARCHIVED) else Perm.STATUS


def _apply_status(actor: User, ticket: Ticket, status: Status, now) -> list[str]:
    """Move the (locked) ticket to `status` and record it; the caller saves the returned fields."""
    # An end user's "close" never archives: only an agent who works the ticket may.
    archiving_as_end_user = status.state == State.ARCHIVED and not policy.acts_as_agent(actor, ticket)
    if archiving_as_end_user or not policy.can(actor, _status_action(status), ticket):
        raise _deny(_("You cannot set this ticket to %(status)s.") % {"status": status.name})
    before = ticket.status
    old_state = ticket.state
    ticket.status = status
    ticket.state = status.state
    if status.state == State.RESOLVED:
        ticket.resolved_at = now
    if status.state == State.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif status.state != State.ARCHIVED:
        ticket.closed_at = None
    if status.state in (State.OPEN, State.PENDING) and old_state in (State.RESOLVED, State.CLOSED):
        ticket.resolved_at = None
        _event(ticket, actor, EventKind.REOPENED, before.name, status.name, now=now)
    _event(ticket, actor, EventKind.STATUS, before.name, status.name, now=now, state=status.state)
    ticket_id, actor_id = ticket.pk, actor.pk
    _on_commit(lambda: notifications.status_changed(ticket_id, actor_id, old_state, status.state))
    return ["status", "state", "resolved_at", "closed_at"]


def set_status(
    actor: User, ticket: Ticket, *, status: Status, note: str = "", expected_version: int | None = None
) -> Ticket:
    """Resolve, close, reopen or park a ticket by choosing one of the admin-defined statuses."""
    if not policy.can(actor, _status_action(status), ticket):
        raise _deny(_("You cannot set this ticket to %(status)s.") % {"status": status.name})
    _validate_note(note)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, expected_version)
        if status.pk == ticket.status_id:
            raise ValidationError({"status": _("The ticket is already %(name)s.") % {"name": status.name}})
        fields = _apply_status(actor, ticket, status, now)
        if note.strip():
            _entry(ticket, actor, EntryKind.NOTE, note, Source.STAFF, now=now)
        _touch(ticket, now, *fields)
    return ticket


def close_by_user(actor: User, ticket: Ticket) -> Ticket:
    """The end user says they are done."""
    _require(actor, "close", ticket, _("You cannot close this ticket."))
    return set_status(actor, ticket, status=default_status(State.CLOSED))


# ---------------------------------------------------------------------------- collaborators


def add_collaborator(actor: User, ticket: Ticket, *, user: User) -> Collaborator:
    denied = _("You cannot change who is copied on this ticket.")
    _require(actor, Perm.MANAGE, ticket, denied)
    if user.pk == ticket.user_id:
        raise ValidationError({"email": _("%(name)s opened this ticket.") % {"name": user.display_name}})
    if not user.is_active:
        raise ValidationError({"email": _("%(name)s's account is disabled.") % {"name": user.display_name}})
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, None, actor=actor, action=Perm.MANAGE, message=denied)
        collab, created = Collaborator.objects.get_or_create(ticket=ticket, user=user, defaults={"created_at": now})
        if not created:
            raise ValidationError({"email": _("%(name)s is already copied.") % {"name": user.display_name}})
        _event(ticket, actor, EventKind.COLLABORATOR_ADDED, "", user.email, now=now, user_id=user.pk)
        _touch(ticket, now)
    return collab


def copy_mail_sender(ticket: Ticket, *, user: User) -> Collaborator:
    """Copy someone who wrote to the ticket by email on it, as the desk (no acting person).

    Only the mail intake calls this, and only when the ticket's department lets people who
    answer a ticket's mail join it (Department.unknown_senders): whoever the requester wrote to
    and who answered belongs in the conversation. The event says the system did it."""
    if not user.is_active:
        raise ValidationError({"email": _("%(name)s's account is disabled.") % {"name": user.display_name}})
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if user.pk == ticket.user_id:
            raise ValidationError({"email": _("%(name)s opened this ticket.") % {"name": user.display_name}})
        collab, created = Collaborator.objects.get_or_create(ticket=ticket, user=user, defaults={"created_at": now})
        if created:
            _event(ticket, None, EventKind.COLLABORATOR_ADDED, "", user.email, now=now, user_id=user.pk, by="email")
            _touch(ticket, now)
    return collab


MAIL_EVENTS = (EventKind.AUTO_REPLY, EventKind.BOUNCE, EventKind.MAIL_REFUSED)


def record_mail_event(ticket: Ticket, kind: str, *, address: str, detail: str, **data) -> Event:
    """Note on the timeline mail that reached the ticket but was not posted (an automatic
    reply, a bounce, a refused sender), so agents see it without it being answered, reopening
    the ticket or bumping it in the queues. `address` is whom it concerns, `detail` why."""
    if kind not in MAIL_EVENTS:
        raise ValueError(f"not a mail event: {kind}")
    with transaction.atomic():
        return _event(ticket, None, kind, address, detail, **data)


def remove_collaborator(actor: User, ticket: Ticket, *, user: User) -> None:
    denied = _("You cannot change who is copied on this ticket.")
    _require(actor, Perm.MANAGE, ticket, denied)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket, None, actor=actor, action=Perm.MANAGE, message=denied)
        deleted, _rows = Collaborator.objects.filter(ticket=ticket, user=user).delete()
        if not deleted:
            raise ValidationError({"email": _("%(name)s is not copied on this ticket.") % {"name": user.display_name}})
        _event(ticket, actor, EventKind.COLLABORATOR_REMOVED, user.email, "", now=now, user_id=user.pk)
        _touch(ticket, now)


# ---------------------------------------------------------------------------- merge and link


def _refresh_search(ticket_ids: Sequence[int]) -> None:
    """Rebuild the search documents of these tickets inside the caller's transaction, so a
    merge never leaves search finding entries on the ticket they moved away from."""
    for pk in dict.fromkeys(ticket_ids):
        index_ticket(pk)


def _lock_in_order(ticket_ids: Sequence[int]) -> dict[int, Ticket]:
    """Lock several ticket rows in id order: two services locking overlapping tickets then queue
    on the first shared row instead of deadlocking. A ticket deleted meanwhile is missing."""
    rows = Ticket.objects.select_for_update().filter(pk__in=set(ticket_ids)).order_by("pk")
    return {t.pk: t for t in rows}


def _locked(rows: dict[int, Ticket], ticket: Ticket) -> Ticket:
    try:
        return rows[ticket.pk]
    except KeyError:
        raise ValidationError(_("Ticket %(ref)s no longer exists.") % {"ref": ticket.reference}) from None


def _not_merged(ticket: Ticket, message: str) -> None:
    if ticket.merged_into_id is not None:
        raise ValidationError(message % {"ref": ticket.reference, "into": ticket.merged_into.reference})


def merge(actor: User, target: Ticket, *, sources: Sequence[Ticket], expected_version: int | None = None) -> Ticket:
    """Fold duplicate tickets (`sources`) into `target`, the ticket that survives.

    The sources' entries, with their attachments, move to the target keeping their times, so
    its timeline reads in order. The sources' requesters and collaborators are copied on the
    target and agents following a source follow the target, so nobody loses the conversation;
    links move along too. Each source closes with `merged_into` pointing at the target (a
    source others were merged into hands those pointers on, so a pointer never leads to another
    pointer) and a MERGED event on both sides. No mail goes out: merging is housekeeping.

    Needs Perm.MERGE on every ticket involved. All rows are locked in id order, so concurrent
    merges over the same tickets queue instead of deadlocking; `expected_version` is the
    target's version on the page the agent merged from.
    """
    unique = list({s.pk: s for s in sources}.values())
    if not unique:
        raise ValidationError({"sources": _("Choose the tickets to merge.")})
    if any(s.pk == target.pk for s in unique):
        raise ValidationError({"sources": _("A ticket cannot be merged into itself.")})
    _check_mergeable(actor, target, unique)
    now = timezone.now()
    with transaction.atomic():
        rows = _lock_in_order([target.pk, *(s.pk for s in unique)])
        target = _locked(rows, target)
        locked_sources = [_locked(rows, s) for s in unique]
        _check_mergeable(actor, target, locked_sources)
        if expected_version is not None and target.version != expected_version:
            raise StaleTicket(
                _("Ticket %(ref)s changed while you were working on it. Review the latest activity, then try again.")
                % {"ref": target.reference},
                code="stale",
            )
        for source in locked_sources:
            _fold_into(actor, target, source, now)
        _settle_merged_target(target, now)
        _refresh_search([target.pk, *(s.pk for s in locked_sources)])
    return target


def _check_mergeable(actor: User, target: Ticket, sources: Sequence[Ticket]) -> None:
    """Refuse a merge with the reason that helps most: an agent who can see a ticket learns that
    it is already merged (and where to), before being told they may not merge it."""
    checks = [
        (
            target,
            _("%(ref)s was itself merged into %(into)s: merge into that ticket instead."),
            _("You cannot merge tickets into %(ref)s."),
        ),
        *((s, _("%(ref)s is already merged into %(into)s."), _("You cannot merge %(ref)s.")) for s in sources),
    ]
    for ticket, merged, denied in checks:
        if policy.can(actor, Perm.VIEW, ticket):
            _not_merged(ticket, merged)
        _require(actor, Perm.MERGE, ticket, denied % {"ref": ticket.reference})


def _fold_into(actor: User, target: Ticket, source: Ticket, now) -> None:
    """Move one locked source's conversation, people and links to the locked target and close it."""
    ThreadEntry.objects.filter(ticket=source).update(ticket=target)
    Ticket.objects.filter(merged_into=source).update(merged_into=target)

    copied = set(Collaborator.objects.filter(ticket=target).values_list("user_id", flat=True)) | {target.user_id}
    wanted = {source.user_id, *Collaborator.objects.filter(ticket=source).values_list("user_id", flat=True)}
    for person in User.objects.filter(pk__in=wanted - copied, is_active=True).order_by("pk"):
        Collaborator.objects.create(ticket=target, user=person, created_at=now)
        _event(target, actor, EventKind.COLLABORATOR_ADDED, "", person.email, now=now, user_id=person.pk)

    following = set(Referral.objects.filter(ticket=target).values_list("agent_id", flat=True))
    for referral in (
        Referral.objects.filter(ticket=source).exclude(agent_id__in=following).select_related("agent__user")
    ):
        Referral.objects.create(ticket=target, agent=referral.agent, created_at=now)
        _event(target, actor, EventKind.REFERRED, after=referral.agent.name, now=now, agent_id=referral.agent_id)

    for link in TicketLink.objects.filter(Q(ticket_id=source.pk) | Q(other_id=source.pk)):
        other_id = link.other_id if link.ticket_id == source.pk else link.ticket_id
        link.delete()
        if other_id != target.pk:
            low, high = sorted((target.pk, other_id))
            TicketLink.objects.get_or_create(
                ticket_id=low, other_id=high, defaults={"created_by": link.created_by, "created_at": link.created_at}
            )

    fields = ["merged_into"]
    if source.state != State.CLOSED:
        closed = default_status(State.CLOSED)
        _event(source, actor, EventKind.STATUS, source.status.name, closed.name, now=now, state=State.CLOSED)
        source.status, source.state = closed, State.CLOSED
        source.closed_at = now
        source.resolved_at = source.resolved_at or now
        fields += ["status", "state", "closed_at", "resolved_at"]
    source.merged_into = target
    _event(source, actor, EventKind.MERGED, source.reference, target.reference, now=now, into=target.pk)
    _event(target, actor, EventKind.MERGED, source.reference, target.reference, now=now, merged=source.pk)
    _touch(source, now, *fields)
    for name in ("last_message_at", "last_response_at"):
        setattr(target, name, max(filter(None, (getattr(target, name), getattr(source, name))), default=None))
    firsts = [t.first_response_at for t in (target, source) if t.first_response_at]
    target.first_response_at = min(firsts, default=None)


def _settle_merged_target(target: Ticket, now) -> None:
    """The target now holds every entry: it is answered when its latest public entry is ours."""
    latest = (
        ThreadEntry.objects.filter(ticket=target)
        .exclude(kind=EntryKind.NOTE)
        .order_by("-created_at", "-id")
        .values_list("kind", flat=True)
        .first()
    )
    target.is_answered = latest == EntryKind.RESPONSE
    _touch(target, now, "last_message_at", "last_response_at", "first_response_at", "is_answered")


def _link_pair(actor: User, ticket: Ticket, other: Ticket, denied: str) -> tuple[Ticket, Ticket]:
    """Check and lock both tickets of a link change (see `link` for the rule)."""
    if other.pk == ticket.pk:
        raise ValidationError({"number": _("A ticket cannot be linked to itself.")})
    _require(actor, Perm.MANAGE, ticket, denied)
    cannot_see = _("Ticket %(ref)s does not exist or is not in your departments.") % {"ref": other.reference}
    _require(actor, Perm.VIEW, other, cannot_see)
    rows = _lock_in_order([ticket.pk, other.pk])
    ticket, other = _locked(rows, ticket), _locked(rows, other)
    _require(actor, Perm.MANAGE, ticket, denied)
    _require(actor, Perm.VIEW, other, cannot_see)
    return ticket, other


def link(actor: User, ticket: Ticket, *, other: Ticket) -> TicketLink:
    """Mark two tickets as related: both pages list the other under "Related tickets", and both
    timelines say who linked them.

    Needs Perm.MANAGE on `ticket` (the page the agent works from: it changes what that ticket
    shows) and only Perm.VIEW on `other`. Pointing at a ticket you can read is like mentioning
    it in a note, and requiring more would stop a Support agent from linking to the outage
    ticket System Administration owns, which is the usual case. Nobody learns anything new
    from it: the related list shows each viewer only the tickets they can see themselves.
    A merged ticket cannot be linked: link the ticket it was merged into.
    """
    denied = _("You cannot link this ticket to others.")
    now = timezone.now()
    with transaction.atomic():
        ticket, other = _link_pair(actor, ticket, other, denied)
        _not_merged(other, _("%(ref)s was merged into %(into)s: link that ticket instead."))
        low, high = sorted((ticket.pk, other.pk))
        created_link, created = TicketLink.objects.get_or_create(
            ticket_id=low, other_id=high, defaults={"created_by": actor, "created_at": now}
        )
        if not created:
            raise ValidationError({"number": _("%(ref)s is already linked to this ticket.") % {"ref": other.reference}})
        _event(ticket, actor, EventKind.LINKED, "", other.reference, now=now, ticket_id=other.pk)
        _event(other, actor, EventKind.LINKED, "", ticket.reference, now=now, ticket_id=ticket.pk)
        _touch(ticket, now)
        _touch(other, now)
    return created_link


def unlink(actor: User, ticket: Ticket, *, other: Ticket) -> None:
    """Undo `link`, under the same rule (MANAGE on `ticket`, VIEW on `other`), with an event on both."""
    denied = _("You cannot unlink this ticket from others.")
    now = timezone.now()
    with transaction.atomic():
        ticket, other = _link_pair(actor, ticket, other, denied)
        low, high = sorted((ticket.pk, other.pk))
        deleted, _rows = TicketLink.objects.filter(ticket_id=low, other_id=high).delete()
        if not deleted:
            raise ValidationError({"number": _("%(ref)s is not linked to this ticket.") % {"ref": other.reference}})
        _event(ticket, actor, EventKind.UNLINKED, other.reference, "", now=now, ticket_id=other.pk)
        _event(other, actor, EventKind.UNLINKED, ticket.reference, "", now=now, ticket_id=ticket.pk)
        _touch(ticket, now)
        _touch(other, now)
