"""Opening tickets: from the portal, by an agent on someone's behalf, for a guest, or by mail.

Numbering, the default status and priority, and the checks on what an end user may choose
(public help topics only, no priority) live here. Tests: tests/tickets/test_open_ticket.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera import process_memo
from tessera.accounts.models import Department, User
from tessera.accounts.services import end_user_for_email

from .. import attachments as attachment_store
from .. import intake_hooks, notifications, policy
from ..content import clean_line
from ..models import EntryKind, EventKind, HelpTopic, Priority, Source, State, Ticket
from ..policy import Action
from . import rules_applied
from .auto_assign import assign_new_ticket
from .common import _deny, _entry, _event, _next_number, _on_commit, _validate_body, default_status
from .sla import initial_sla


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
    recipients: Sequence[str] = (),
    keep_refusal: bool = True,
    acknowledge: bool = True,
    alert: bool = True,
    custom_values: Mapping[str, object] | None = None,
) -> Ticket:
    """Open a ticket for `requester`. The actor is the requester on the portal, or an agent.

    `html` is an already-made HTML body whose plain-text twin is `message` (mail). `routed`
    says the desk's own routing chose the department (the mailbox a message arrived in, or an
    integration an administrator let in with an API key), so the end user may land in a
    department that is not offered on the portal, and the integration may name a priority. `recipients`: the
    addresses a message came to (the mailbox), for the routing rules.

    The routing rules run first, inside the creating transaction, and may change where the
    ticket goes, its priority, plan, status and assignee, or refuse it (`TicketRefused`). A
    refusal is kept (`rules.Refusal`) after this transaction rolled back, unless the caller
    keeps it itself (`keep_refusal=False`: an enclosing transaction, or mail's own record). Such a
    caller wraps the call in its own `atomic()` block and lets an error leave it: no savepoint
    of ours protects the rest of its transaction.
    `acknowledge=False` sends the requester no automatic reply and `alert=False` the agents no
    new-ticket alert (osTicket's API `autorespond` and `alert`).

    `custom_values`: answers to the custom fields asked for the topic, by field key (see
    `tickets/intake_hooks.py`); checked with the rest of the request, saved with the ticket."""
    if not policy.can(actor, Action.OPEN):
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
    if priority is not None and not is_agent and not routed:
        # Urgency is the desk's call; end users describe impact in the message.
        errors.setdefault("priority", []).append(_("Only agents can set a ticket's priority."))
    if topic is None and department is None:
        errors.setdefault("topic", []).append(_("Choose a help topic."))
    try:
        attachment_store.validate_uploads(list(uploads))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    extra_values: dict[str, Mapping[Any, object]] = {}
    try:
        extra_values = intake_hooks.clean(actor, topic, custom_values)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)

    department = department or cast(HelpTopic, topic).department  # no topic and no department was refused above
    priority = priority or (topic.default_priority if topic else None) or _default_priority()
    now = timezone.now()
    try:
        # A caller that keeps the refusal itself runs this in its own atomic block and lets the
        # error roll that block back, so a savepoint of ours would only cost two statements.
        with transaction.atomic(savepoint=keep_refusal):
            return _create(
                actor,
                requester=requester,
                subject=subject,
                message=message,
                topic=topic,
                department=department,
                priority=priority,
                source=source,
                uploads=uploads,
                html=html,
                recipients=recipients,
                now=now,
                acknowledge=acknowledge,
                alert=alert,
                custom_values=extra_values,
            )
    except rules_applied.TicketRefused as refused:
        if keep_refusal:
            rules_applied.record_refusal(refused)
        raise


def _create(
    actor: User,
    *,
    requester: User,
    subject: str,
    message: str,
    topic: HelpTopic | None,
    department: Department,
    priority: Priority,
    source: str,
    uploads: Sequence[attachment_store.Upload],
    html: str | None,
    recipients: Sequence[str],
    now: datetime,
    acknowledge: bool = True,
    alert: bool = True,
    custom_values: Mapping[str, Mapping[Any, object]] | None = None,
) -> Ticket:
    """The creating transaction: routing rules, then the ticket with its SLA columns, then the
    answers to custom fields (`custom_values`, as `intake_hooks.clean` returned them)."""
    plan = rules_applied.routing_plan(
        requester=requester,
        subject=subject,
        message=message,
        source=source,
        topic=topic,
        priority=priority,
        recipients=recipients,
        custom=intake_hooks.rule_values(custom_values),
    )
    status = default_status(State.OPEN)
    extra: dict[str, Any] = {}
    if plan.acted:
        if plan.reject is not None:
            raise rules_applied.refuse(
                plan.reject, plan, rules_applied.Submission(source, requester.email, subject, message)
            )
        if plan.topic is not None:
            topic = plan.topic
            department = topic.department  # the topic's own department, unless a rule names one
        department = plan.department or department
        priority = plan.priority or priority
        status = plan.status or status
        plan = rules_applied.assignable(plan, department)
        extra = {"team": plan.team, "assignee": plan.agent}
    sla = rules_applied.sla_columns(plan, topic=topic, department=department, priority=priority, now=now)
    if sla is None:
        sla = initial_sla(topic=topic, department=department, priority=priority, created_at=now)
    if status.state != State.OPEN:
        sla.update(rules_applied.state_columns(status, now))
    ticket = Ticket.objects.create(
        number=_next_number(),
        subject=subject,
        user=requester,
        organization=requester.organization,
        department=department,
        topic=topic,
        priority=priority,
        status=status,
        state=status.state,
        source=source,
        created_at=now,
        updated_at=now,
        last_message_at=now,
        **sla,
        **extra,
    )
    entry = _entry(ticket, requester, EntryKind.MESSAGE, message, source, uploads, now, html, opening=True)
    ticket.opening_entry = entry  # type: ignore[attr-defined]  # set only here, for callers that link to it (mail: the message received)
    if custom_values:
        intake_hooks.save(actor, ticket, custom_values)
    _event(ticket, actor, EventKind.CREATED, after=department.name, now=now, source=source)
    rules_applied.apply_after_create(ticket, plan, now)
    # Automatic assignment (the department's or team's mode), when no rule named an agent.
    assign_new_ticket(ticket, now=now)
    acknowledge = acknowledge and not plan.no_auto_reply
    _on_commit(lambda: notifications.ticket_opened(ticket.pk, entry.pk, actor.pk, acknowledge=acknowledge, alert=alert))
    if plan.agent is not None or plan.team is not None:
        agent_id, team_id = plan.agent.pk if plan.agent else None, plan.team.pk if plan.team else None
        _on_commit(lambda: notifications.assigned(ticket.pk, actor.pk, agent_id, team_id))
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
    custom_values: Mapping[str, object] | None = None,
    language: str = "",
) -> Ticket:
    """Intake from someone who is not signed in: find or create the end user behind the address
    and open the ticket in one transaction, so a refused ticket leaves no half-made account.
    `language`: the one the form was filled in, kept for a person who has none.
    Mail passes `department`, `html` and `routed` (see open_ticket). A submission a routing
    rule refused is kept once that transaction has rolled back."""
    try:
        with transaction.atomic():
            requester = end_user_for_email(email=email, name=name, language=language)
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
                keep_refusal=False,
                custom_values=custom_values,
            )
    except rules_applied.TicketRefused as refused:
        rules_applied.record_refusal(refused)
        raise


@process_memo.memo("tickets.Priority")
def _fallback_priority() -> Priority | None:
    """The default priority (else the most urgent), read at most every few seconds per process."""
    return Priority.objects.filter(is_default=True).first() or Priority.objects.order_by("-urgency").first()


def _default_priority() -> Priority:
    priority = _fallback_priority()
    if priority is None:
        raise ValidationError(_("No priorities are configured; an administrator must add one."))
    return priority
