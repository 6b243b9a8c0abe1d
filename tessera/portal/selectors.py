"""Reads the portal needs on top of tickets.selectors.

Kept here, next to their only caller, until another adapter needs them; each one
narrows by the end user's reach first, so a view can never ask for "any ticket".
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from tessera.accounts.models import User
from tessera.tickets import policy, selectors
from tessera.tickets.models import Attachment, EntryKind, HelpTopic, State, Ticket

MY_TICKETS_PAGE_SIZE = 25


def public_topics() -> QuerySet[HelpTopic]:
    """The topics a customer may pick; agents choose internal ones in the workspace."""
    return HelpTopic.objects.filter(is_public=True, is_active=True).order_by("name")


def end_user_by_email(email: str) -> User | None:
    """The active person behind an address, if any (addresses are stored lower-cased)."""
    email = (email or "").strip().lower()
    if not email:
        return None
    return User.objects.filter(email=email, is_active=True).first()


def account_for_address(email: str) -> User | None:
    """Whoever holds this address, active or not, with their agent profile (or its absence)."""
    email = (email or "").strip().lower()
    return User.objects.select_related("agent").filter(email=email).first() if email else None


def ticket_of_end_user(user: User, number: int) -> Ticket | None:
    """One ticket the user opened or is copied on, or one of their organisation's when it
    shares tickets among members (policy.shares_organisation_ticket); None hides whether the
    number exists."""
    found = selectors.tickets_of_user(user).select_related("user", "priority").filter(number=number).first()
    if found is None and user.organization_id is not None:
        shared = (
            Ticket.objects.select_related("status", "department", "user", "priority")
            .filter(number=number, organization_id=user.organization_id)
            .first()
        )
        if shared is not None and policy.shares_organisation_ticket(user, shared):
            found = shared
    return found


def my_tickets_page(user: User, *, before: tuple[datetime, int] | None = None) -> tuple[list[Ticket], bool]:
    """A page of the user's tickets, newest first, by keyset on (created_at, id): never OFFSET."""
    qs = selectors.tickets_of_user(user)
    if before is not None:
        created_at, pk = before
        qs = qs.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk))
    rows = list(qs[: MY_TICKETS_PAGE_SIZE + 1])
    return rows[:MY_TICKETS_PAGE_SIZE], len(rows) > MY_TICKETS_PAGE_SIZE


def public_attachment(ticket: Ticket, attachment_id: int) -> Attachment | None:
    """A file on a message or response of this ticket; files on internal notes do not exist here."""
    return (
        Attachment.objects.select_related("entry")
        .filter(pk=attachment_id, entry__ticket=ticket)
        .exclude(entry__kind=EntryKind.NOTE)
        .first()
    )


def open_tickets_of(user: User, *, limit: int) -> list[Ticket]:
    """The person's tickets still in progress (not closed, archived or merged), newest first:
    what "I lost my link" mails links to."""
    return list(
        selectors.tickets_of_user(user)
        .exclude(state__in=[State.CLOSED, State.ARCHIVED])
        .filter(merged_into__isnull=True)[:limit]
    )


def organisation_tickets_page(user: User, *, before: tuple[datetime, int] | None = None) -> tuple[list[Ticket], bool]:
    """A page of the tickets opened for the user's organisation, when they may see them
    (policy.sees_organisation_tickets), newest first by keyset; nothing otherwise."""
    org_id = user.organization_id
    if org_id is None or not policy.sees_organisation_tickets(user):
        return [], False
    qs = Ticket.objects.filter(organization_id=org_id).select_related("status", "user").order_by("-created_at", "-id")
    if before is not None:
        created_at, pk = before
        qs = qs.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk))
    rows = list(qs[: MY_TICKETS_PAGE_SIZE + 1])
    return rows[:MY_TICKETS_PAGE_SIZE], len(rows) > MY_TICKETS_PAGE_SIZE
