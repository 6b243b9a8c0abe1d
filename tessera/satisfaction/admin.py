"""Ratings for reports: a read-only list with filters and a CSV export of what it shows."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tessera.csv_cells import lines

from .models import Rating, Survey

CSV_HEADER = ["ticket", "score", "comment", "rated_at", "changed_at", "agent", "department", "requester"]


def _rows(queryset: QuerySet[Rating]) -> Iterator[list[object]]:
    for r in queryset.select_related("ticket", "agent__user", "department", "survey__requester").iterator():
        yield [
            r.ticket.reference,
            r.score,
            r.comment,
            r.rated_at.isoformat(),
            r.changed_at.isoformat() if r.changed_at else "",
            r.agent.user.display_name if r.agent else "",
            r.department.name,
            r.survey.requester.email,
        ]


@admin.action(description=_("Export the selected ratings as CSV"))
def export_csv(
    modeladmin: admin.ModelAdmin[Rating], request: HttpRequest, queryset: QuerySet[Rating]
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        lines(CSV_HEADER, _rows(queryset.order_by("-rated_at", "-pk"))), content_type="text/csv"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="ratings-{stamp}.csv"'
    return response


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin[Rating]):
    list_display = ["ticket", "score", "agent", "department", "rated_at", "short_comment"]
    list_filter = ["department", "agent", "score", "rated_at"]
    search_fields = ["ticket__number", "comment"]
    date_hierarchy = "rated_at"
    list_select_related = ["ticket", "agent__user", "department"]
    actions = [export_csv]
    readonly_fields = ["survey", "ticket", "agent", "department", "score", "comment", "rated_at", "changed_at"]

    @admin.display(description=_("comment"))
    def short_comment(self, rating: Rating) -> str:
        return rating.comment if len(rating.comment) <= 80 else rating.comment[:79] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # ratings come from requesters only

    def has_change_permission(self, request: HttpRequest, obj: Rating | None = None) -> bool:
        return False


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin[Survey]):
    list_display = ["ticket", "requester", "agent", "department", "created_at", "mailed_at"]
    list_filter = ["department", "created_at"]
    search_fields = ["ticket__number", "requester__email"]
    list_select_related = ["ticket", "requester", "agent__user", "department"]
    readonly_fields = ["ticket", "requester", "agent", "department", "created_at", "due_at", "mailed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Survey | None = None) -> bool:
        return False
