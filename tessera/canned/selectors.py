"""Reads of canned responses: the management list (what an agent may manage) and the reply
box's picker (what a ticket's department may use). Each is one query, whatever the number of
responses: departments and files come by prefetch."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from tessera.accounts.models import Department, User
from tessera.tickets import policy
from tessera.tickets.models import Ticket

from .models import CannedAttachment, CannedResponse

PICKER_LIMIT = 20

_Shares = CannedResponse.departments.through


def _shared_with_any() -> Exists:
    return Exists(_Shares.objects.filter(cannedresponse_id=OuterRef("pk")))


def manageable(actor: User) -> QuerySet[CannedResponse]:
    """The responses this person may change and delete (policy.canned_scope)."""
    scope = policy.canned_scope(actor)
    qs = CannedResponse.objects.all()
    if scope.everything:
        return qs
    if not scope.any:
        return qs.none()
    # Shared with a department the agent does not manage: not theirs to change.
    elsewhere = _Shares.objects.filter(cannedresponse_id=OuterRef("pk")).exclude(department_id__in=scope.department_ids)
    qs = qs.exclude(Exists(elsewhere))
    if not scope.everyone:
        qs = qs.filter(_shared_with_any())
    return qs


def management_list(actor: User, query: str = "") -> QuerySet[CannedResponse]:
    qs = manageable(actor)
    query = query.strip()
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(body__icontains=query))
    return (
        qs.annotate(file_count=Count("attachments", distinct=True))
        .prefetch_related(Prefetch("departments", queryset=Department.objects.only("pk", "name")))
        .order_by("title", "pk")
    )


def manageable_by_pk(actor: User, pk: int) -> CannedResponse | None:
    return (
        manageable(actor)
        .prefetch_related("departments", Prefetch("attachments", queryset=CannedAttachment.objects.order_by("name")))
        .filter(pk=pk)
        .first()
    )


def available_for(ticket: Ticket) -> QuerySet[CannedResponse]:
    """Active responses shared with everyone or with the ticket's department."""
    here = Exists(_Shares.objects.filter(cannedresponse_id=OuterRef("pk"), department_id=ticket.department_id))
    return CannedResponse.objects.filter(is_active=True).filter(~_shared_with_any() | here)


def search_for_ticket(ticket: Ticket, query: str = "", limit: int = PICKER_LIMIT) -> list[CannedResponse]:
    """The picker's list: titles matching first, then text matching; most used first within each."""
    qs = available_for(ticket)
    query = query.strip()
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(body__icontains=query))
    rows = list(qs.only("pk", "title", "body", "usage_count").order_by("-usage_count", "title", "pk")[: limit * 3])
    if query:
        lowered = query.lower()
        rows.sort(key=lambda r: lowered not in r.title.lower())  # stable: usage order kept within each group
    return rows[:limit]


def for_ticket(ticket: Ticket, pk: int) -> CannedResponse | None:
    """One response usable on this ticket, with its files; None when it is not shared here."""
    return (
        available_for(ticket)
        .prefetch_related(Prefetch("attachments", queryset=CannedAttachment.objects.order_by("name", "pk")))
        .filter(pk=pk)
        .first()
    )


def several_for_ticket(ticket: Ticket, pks: list[int]) -> list[CannedResponse]:
    return list(
        available_for(ticket)
        .prefetch_related(Prefetch("attachments", queryset=CannedAttachment.objects.order_by("name", "pk")))
        .filter(pk__in=pks)
        .order_by("pk")
    )
