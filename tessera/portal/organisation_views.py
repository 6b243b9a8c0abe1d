"""The organisation's tickets, for its manager or every member where it shares tickets.

Opening one goes through the ticket page (views.ticket), which asks policy.can like any other:
another organisation's person gets 404 there.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.tickets import policy

from . import selectors as portal_selectors
from .views import _cursor, _parse_cursor


@login_required
@require_http_methods(["GET"])
def organisation_tickets(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not policy.sees_organisation_tickets(user):
        return render(request, "portal/organisation_tickets.html", {"allowed": False}, status=404)
    before = _parse_cursor(request.GET.get("before", ""))
    tickets, has_more = portal_selectors.organisation_tickets_page(user, before=before)
    context = {
        "allowed": True,
        "organization": user.organization,
        "tickets": tickets,
        "next_cursor": _cursor(tickets[-1]) if has_more else None,
        "is_first_page": before is None,
    }
    return render(request, "portal/organisation_tickets.html", context)
