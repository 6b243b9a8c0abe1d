"""Private pages are never kept by browsers or proxies.

The workspace (/staff/), the configuration pages (/admin/), the portal's ticket pages and
access links, and every page served to a signed-in person carry internal notes, other people's
tickets or at least a name. Without `Cache-Control: no-store` a shared computer's browser keeps
them on disk after sign-out, and its Back button shows them again. One middleware covers them
all, including the not-found and error pages and every file download, so a new view cannot forget.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

# Paths private whoever asks: the workspace, configuration, the portal's per-ticket pages (reached
# by number when signed in, or by an access link's token when not), the confirmation that names the
# address a guest just used, and password reset links.
PRIVATE_PREFIXES = ("/staff/", "/admin/", "/tickets/", "/t/", "/opened/", "/password/")


def is_private(request: HttpRequest) -> bool:
    if request.path.startswith(PRIVATE_PREFIXES):
        return True
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


class NoStoreMiddleware:
    """Marks every private response `no-store` (and `Pragma: no-cache` for HTTP/1.0 proxies).

    Sits after AuthenticationMiddleware (it asks who is signed in) and after WhiteNoise, whose
    static files never reach it and stay cacheable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # A view may mark a response that is the same for everyone (the priority stylesheet).
        if is_private(request) and not getattr(response, "shared_asset", False):
            add_never_cache_headers(response)
            response["Pragma"] = "no-cache"
        return response
