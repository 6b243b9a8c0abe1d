"""The desk's small reference tables, read at most once per request.

Priorities, statuses, departments, teams and help topics are a few dozen rows that a workspace
page needs several times over: the rows' badges, the filter form, the bulk bar, the ticket
page's forms. Each use was its own query. Inside a request (RequestMemoMiddleware) each table
is read once, in its display order; outside one (services, commands, tests calling selectors
directly) every call reads the table again. Nothing outlives the request, so an
administrator's change shows on the next page in every worker.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, cast

from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from tessera.accounts.models import Department, Team

from .models import HelpTopic, Priority, Status

ORDER: dict[type[Model], tuple[str, ...]] = {
    Priority: ("urgency", "id"),
    Status: ("order", "name", "id"),
    Department: ("name", "id"),
    Team: ("name", "id"),
    HelpTopic: ("name", "id"),
}

_memo: ContextVar[dict[Any, Any] | None] = ContextVar("tessera_reference_memo", default=None)


def rows[M: Model](model: type[M]) -> list[M]:
    """Every row of a reference table, in display order."""
    memo = _memo.get()
    if memo is not None and model in memo:
        return cast("list[M]", memo[model])
    found = list(model._default_manager.order_by(*ORDER[model]))
    if memo is not None:
        memo[model] = found
    return found


def by_pk[M: Model](model: type[M]) -> dict[int, M]:
    memo = _memo.get()
    key = (model, "by_pk")
    if memo is not None and key in memo:
        return cast("dict[int, M]", memo[key])
    found = {row.pk: row for row in rows(model)}
    if memo is not None:
        memo[key] = found
    return found


class RequestMemoMiddleware:
    """Opens the per-request memo of reference tables (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)
