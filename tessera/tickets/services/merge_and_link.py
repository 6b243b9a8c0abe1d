"""Folding duplicate tickets into one, and linking related tickets.

Both change several tickets at once, so rows are locked in id order (`_lock_in_order`) and
concurrent merges queue instead of deadlocking. Tests: tests/tickets/test_merge_and_link.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.search.index import index_ticket

from .. import merge_hooks, policy
from ..models import Collaborator, EntryKind, EventKind, Referral, State, ThreadEntry, Ticket, TicketLink
from ..policy import Action
from .common import StaleTicket, _event, _require, _touch, default_status


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
    if ticket.merged_into is not None:
        raise ValidationError(message % {"ref": ticket.reference, "into": ticket.merged_into.reference})


def merge(actor: User, target: Ticket, *, sources: Sequence[Ticket], expected_version: int | None = None) -> Ticket:
    """Fold duplicate tickets (`sources`) into `target`, the ticket that survives.

    The sources' entries, with their attachments, move to the target keeping their times, so
    its timeline reads in order. The sources' requesters and collaborators are copied on the
    target and agents following a source follow the target, so nobody loses the conversation;
    links move along too. Each source closes with `merged_into` pointing at the target (a
    source others were merged into hands those pointers on, so a pointer never leads to another
    pointer) and a MERGED event on both sides. No mail goes out: merging is housekeeping.

    Needs Action.MERGE on every ticket involved. All rows are locked in id order, so concurrent
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
        if policy.can(actor, Action.VIEW, ticket):
            _not_merged(ticket, merged)
        _require(actor, Action.MERGE, ticket, denied % {"ref": ticket.reference})


def _fold_into(actor: User, target: Ticket, source: Ticket, now: datetime) -> None:
    """Move one locked source's conversation, people and links to the locked target and close it."""
    ThreadEntry.objects.filter(ticket=source).update(ticket=target)
    Ticket.objects.filter(merged_into=source).update(merged_into=target)
    merge_hooks.run(actor, source, target, now)  # other apps' work on the source (its tasks)

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


def _settle_merged_target(target: Ticket, now: datetime) -> None:
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
    _require(actor, Action.MANAGE, ticket, denied)
    cannot_see = _("Ticket %(ref)s does not exist or is not in your departments.") % {"ref": other.reference}
    _require(actor, Action.VIEW, other, cannot_see)
    rows = _lock_in_order([ticket.pk, other.pk])
    ticket, other = _locked(rows, ticket), _locked(rows, other)
    _require(actor, Action.MANAGE, ticket, denied)
    _require(actor, Action.VIEW, other, cannot_see)
    return ticket, other


def link(actor: User, ticket: Ticket, *, other: Ticket) -> TicketLink:
    """Mark two tickets as related: both pages list the other under "Related tickets", and both
    timelines say who linked them.

    Needs Action.MANAGE on `ticket` (the page the agent works from: it changes what that ticket
    shows) and only Action.VIEW on `other`. Pointing at a ticket you can read is like mentioning
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
