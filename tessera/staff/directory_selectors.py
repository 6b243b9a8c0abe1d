"""Reads for the workspace's people directory: lists by keyset, a person's and an organisation's
page. Each read is one query (or a fixed few), whatever the size of the directory; tickets are
only ever those the agent may see (`policy.visible_tickets`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from tessera.accounts.models import Agent, DirectoryNote, Organization, OrganizationDomain, User
from tessera.tickets import policy
from tessera.tickets.models import State, Ticket

PAGE_SIZE = 50
TICKETS_SHOWN = 20
MEMBERS_SHOWN = 50
NOTES_SHOWN = 50
SEARCH_MAX = 100  # characters of a search that are used


@dataclass
class Page[T]:
    rows: list[T]
    next_after: str | None  # the keyset value of the next page, None on the last


def end_users() -> QuerySet[User]:
    """The people in the directory: everyone but the agents and administrators, who are
    described in the admin."""
    return User.objects.filter(agent__isnull=True, is_staff=False, is_superuser=False)


def people(*, q: str = "", organization_id: int | None = None, after: str | None = None) -> Page[User]:
    """A page of end users by address (the keyset: the address after `after`), matching `q` in
    name, address or organisation name."""
    qs = (
        end_users()
        .select_related("organization")
        .only("id", "email", "name", "is_active", "organization__id", "organization__name")
    )
    q = q.strip()[:SEARCH_MAX]
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(email__icontains=q) | Q(organization__name__icontains=q))
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    if after:
        qs = qs.filter(email__gt=after)
    rows = list(qs.order_by("email")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(rows, rows[-1].email if more else None)


def organizations(*, q: str = "", after: str | None = None) -> Page[Organization]:
    """A page of organisations by name (the keyset), matching `q` in the name or a domain, with
    their number of members."""
    qs = Organization.objects.all()
    q = q.strip()[:SEARCH_MAX]
    if q:
        by_domain = OrganizationDomain.objects.filter(domain__icontains=q).values("organization_id")
        qs = qs.filter(Q(name__icontains=q) | Q(pk__in=by_domain))
    if after:
        qs = qs.filter(name__gt=after)
    qs = (
        qs.select_related("account_manager__user")
        .prefetch_related("domains")
        .annotate(member_count=Count("users"))
        .order_by("name")
    )
    rows: list[Organization] = list(qs[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(rows, rows[-1].name if more else None)


def person(user_id: int) -> User | None:
    return User.objects.select_related("organization", "agent").filter(pk=user_id).first()


def organization(org_id: int) -> Organization | None:
    return Organization.objects.select_related("account_manager__user").filter(pk=org_id).first()


def _open_first(qs: QuerySet[Ticket]) -> list[Ticket]:
    """Open and pending tickets first, then the rest, each newest change first; one more than
    shown, so the page knows there are more."""
    return list(
        qs.select_related("status", "priority")
        .annotate(
            done=Case(
                When(state__in=[State.OPEN, State.PENDING], then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("done", "-updated_at", "-id")[: TICKETS_SHOWN + 1]
    )


def tickets_of_person(agent: Agent, user: User) -> list[Ticket]:
    return _open_first(policy.visible_tickets(agent).filter(user_id=user.pk))


def tickets_of_organization(agent: Agent, org: Organization) -> list[Ticket]:
    return _open_first(policy.visible_tickets(agent).filter(organization_id=org.pk))


def members(org: Organization) -> list[User]:
    """The organisation's people (agents too, when one was placed in it), one more than shown."""
    return list(
        org.users.only("id", "email", "name", "is_active", "organization_id", "organization_manager").order_by(
            "name", "email"
        )[: MEMBERS_SHOWN + 1]
    )


def notes_about(*, user: User | None = None, org: Organization | None = None) -> list[DirectoryNote]:
    qs = DirectoryNote.objects.select_related("author")
    qs = qs.filter(user=user) if user is not None else qs.filter(organization=org)
    return list(qs.order_by("-created_at", "-id")[:NOTES_SHOWN])


def note(note_id: int) -> DirectoryNote | None:
    return DirectoryNote.objects.select_related("user__agent", "organization").filter(pk=note_id).first()


def managers() -> QuerySet[Agent]:
    """Who may be named account manager: active agents, by name."""
    return Agent.objects.filter(is_active=True, user__is_active=True).select_related("user").order_by("user__name")
