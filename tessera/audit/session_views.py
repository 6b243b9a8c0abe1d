"""Signing out other browsers from the profile page (POST only; your own sessions only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from tessera.accounts.http import AuthenticatedHttpRequest

from . import sessions


def _back(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and (request.user.is_agent or request.user.is_superuser):
        return redirect("staff:profile")
    if request.user.is_authenticated:
        return redirect("portal:my_tickets")
    return redirect("staff:login")


@require_POST
@login_required
def end_session(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    was_current = False
    for info in sessions.active_sessions(request):
        if info.pk == pk:
            was_current = info.is_current
            break
    else:
        raise Http404(_("No such session."))
    sessions.end_session(request, pk)
    if was_current:
        messages.success(request, _("You have signed out."))
        return redirect("staff:login")
    messages.success(request, _("That session is signed out."))
    return _back(request)


@require_POST
@login_required
def end_other_sessions(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = sessions.end_other_sessions(request)
    if count:
        messages.success(
            request,
            ngettext("%(count)d other session is signed out.", "%(count)d other sessions are signed out.", count)
            % {"count": count},
        )
    else:
        messages.info(request, _("You were not signed in anywhere else."))
    return _back(request)
