"""The priority badges' colours, as a stylesheet generated from the Priority rows.

Why a stylesheet: the Content-Security-Policy allows no inline styles, so the colour an
administrator picks for a priority cannot be written into the badge's markup. Every badge
carries the class `priority-<urgency>` (urgency is unique), and this sheet gives each class the
administrator's background and the text colour (white or near-black) that reads best on it.

Why a version in the URL: the link carries a hash of the sheet, so a browser fetches it once and
keeps it (immutable) until a colour changes, and the hash comes from a process memo, so linking
it adds no query to the page that links it.
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.views.decorators.http import require_safe

from tessera import process_memo
from tessera.tickets.colours import is_hex_colour, text_colour
from tessera.tickets.models import Priority

YEAR = 365 * 24 * 3600


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


@process_memo.memo("tickets.Priority")
def current_sheet() -> Sheet:
    """The sheet as the Priority rows are now, read at most every few seconds (process_memo)."""
    return Sheet(build_css(list(Priority.objects.order_by("urgency").values_list("urgency", "colour"))))


def sheet_url() -> str:
    return f"{reverse('staff:priority_css')}?v={current_sheet().version}"


@require_safe
def priority_css(request: HttpRequest) -> HttpResponse:
    """Public: the sheet names no priority, only urgencies and colours. A request for the current
    version may be kept for a year; any other (an old page's link) must be revalidated."""
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
