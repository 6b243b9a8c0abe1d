"""The priority badges' colours, as a stylesheet generated from the Priority rows.

Why a stylesheet: the Content-Security-Policy allows no inline styles, so the colour an
administrator picks for a priority cannot be written into the badge's markup. Every badge
carries the class `priority-<urgency>` (urgency is unique), and this sheet gives each class the
administrator's background and the text colour (white or near-black) that reads best on it.

Why a version in the URL: once the sheet has been served, the link carries a hash of it, so a
browser fetches it once and keeps it (immutable) until a colour changes. The hash is kept in
Django's cache, never read from the database while drawing a page, so the link adds no query to
any page: until the cache knows the hash (a fresh process, a colour just saved, or after
VERSION_SECONDS, which bounds how long another process with a private cache links an old sheet)
the link has no version and the browser revalidates the sheet with its ETag instead.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.views.decorators.http import require_safe

from tessera.tickets.colours import is_hex_colour, text_colour
from tessera.tickets.models import Priority

YEAR = 365 * 24 * 3600
VERSION_KEY = "priority-css-version"
VERSION_SECONDS = 60


class Sheet:
    def __init__(self, css: str) -> None:
        self.css = css
        self.version = hashlib.sha256(css.encode()).hexdigest()[:12]


def build_css(colours: list[tuple[int, str]]) -> str:
    """One rule per priority; a colour that is not #rrggbb (rows written outside the admin's
    validation) is left out, so its badge keeps the grey of staff.css rather than break the sheet."""
    lines = ["/* Priority badge colours, generated from the administrator's priorities. */"]
    for urgency, colour in colours:
        if is_hex_colour(colour):
            rule = f"--badge: {colour.lower()}; color: {text_colour(colour)};"
            lines.append(f".badge-priority.priority-{int(urgency)} {{ {rule} }}")
    return "\n".join(lines) + "\n"


def current_sheet() -> Sheet:
    """The sheet as the Priority rows are now; remembers its version for the pages' links."""
    sheet = Sheet(build_css(list(Priority.objects.order_by("urgency").values_list("urgency", "colour"))))
    cache.set(VERSION_KEY, sheet.version, VERSION_SECONDS)
    return sheet


def sheet_url() -> str:
    """The link to the sheet, without touching the database (see the module docstring)."""
    version = cache.get(VERSION_KEY)
    url = reverse("staff:priority_css")
    return f"{url}?v={version}" if version else url


def _forget_version(**kwargs: object) -> None:
    cache.delete(VERSION_KEY)


post_save.connect(_forget_version, sender="tickets.Priority", dispatch_uid="priority-css-version")
post_delete.connect(_forget_version, sender="tickets.Priority", dispatch_uid="priority-css-version-deleted")


@require_safe
def priority_css(request: HttpRequest) -> HttpResponse:
    """Public: the sheet names no priority, only urgencies and colours. A request for the current
    version may be kept for a year; any other (an unversioned or old page's link) is revalidated."""
    sheet = current_sheet()
    etag = f'"{sheet.version}"'
    if request.headers.get("If-None-Match") == etag:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(sheet.css, content_type="text/css; charset=utf-8")
    response["ETag"] = etag
    if request.GET.get("v") == sheet.version:
        response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response["Cache-Control"] = "public, no-cache"
    response.shared_asset = True  # type: ignore[attr-defined]  # tessera.cache_headers leaves it cacheable
    return response
