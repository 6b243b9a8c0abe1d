"""Who gets into the agent workspace, and which attachments may be shown inline.

The bottom of the workspace's import graph: views, fragments, template tags, the mail app's
"original email" page and the portal's downloads import from here, and this module imports
nothing of theirs. Whether someone is an agent is the policy's question; this module only
turns the answer into a response.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, cast

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent
from tessera.tickets import policy
from tessera.tickets.models import Attachment

# Shown inline (and as thumbnails); every other type downloads. Raster images only: an SVG or
# HTML file opened inline could run script. One list for the workspace and the portal.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"})


def previewable(attachment: Attachment) -> bool:
    """Show a thumbnail? Only for the raster types the download view serves inline."""
    return attachment.content_type in INLINE_IMAGE_TYPES


def agent_required[**P, R: HttpResponseBase](
    view: Callable[Concatenate[AuthenticatedHttpRequest, Agent, P], R],
) -> Callable[Concatenate[HttpRequest, P], R | HttpResponse]:
    """Let active agents through, handing the view their Agent; send anonymous visitors to the
    staff sign-in and tell anyone else why the workspace is closed to them (403, not a redirect
    loop through the sign-in page)."""

    @wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> R | HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("staff:login"))
        agent = policy.workspace_agent(user)
        if agent is None:
            return render(request, "staff/not_agent.html", {"has_agent_profile": user.agent_or_none}, status=403)
        # Signed in: the check above turned anonymous visitors away.
        return view(cast(AuthenticatedHttpRequest, request), agent, *args, **kwargs)

    return wrapper
