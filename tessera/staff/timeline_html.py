"""The ticket page's activity list, built in Python rather than in the template.

The timeline is the hottest loop in the workspace: a long ticket has hundreds of entries and
events, and the template engine spent about 60 ms resolving the same dozen variables for each
of them (bench/RESULTS.md). Here every piece of markup is fixed and every value goes through
format_html's escaping, except body_html, which was sanitised when it was stored and is only
re-sanitised by fold_quotes when it changes. The markup is the same as the other workspace
templates use, so CSS, scripts and tests see no difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from functools import lru_cache

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tessera.staff.access import previewable
from tessera.tickets.content import link_inline_images
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import Attachment, EntryKind, Event, ThreadEntry
from tessera.tickets.quote_folding import fold_quotes


def time_element(value: datetime | None, style: str = "DATETIME_FORMAT") -> SafeString | str:
    """A <time> in the viewer's time zone, with the full date and the zone in its tooltip."""
    if value is None:
        return ""
    zone = timezone.get_current_timezone()
    return mark_safe(_time_element(value, zone, style, get_language()))


@lru_cache(maxsize=16_384)
def _time_element(value: datetime, zone: tzinfo, style: str, language: str | None) -> str:
    """Django's date formatting costs about 30 µs a call and a long ticket shows hundreds of
    times; the result depends only on these arguments (formats are settings, fixed while a
    process runs), so a worker formats each time once per zone and language."""
    local = timezone.localtime(value, zone)
    full = date_format(local, "DATETIME_FORMAT")
    shown = full if style == "DATETIME_FORMAT" else date_format(local, style)
    title = escape(f"{full} {local.tzname() or ''}")
    return f'<time datetime="{local.isoformat()}" title="{title}">{escape(shown)}</time>'


def _file_url(file: Attachment) -> str:
    return reverse("staff:attachment", args=[file.pk])


def _original_link(inbound_id: int | None, label: str) -> str:
    """Entries that came by email link to the message as received, quoted history included."""
    if inbound_id is None:
        return ""
    return f' <a class="original-link" href="{escape(reverse("mail:original", args=[inbound_id]))}">{label}</a>'


def _attachments(files: list[Attachment]) -> str:
    items = []
    for file in files:
        url = escape(_file_url(file))
        size = escape(filesizeformat(file.size))
        link = f'<span><a href="{url}">{escape(file.name)}</a> <span class="muted">({size})</span></span>'
        if previewable(file):
            items.append(
                f'<li class="attachment-image"><a class="thumb-link" href="{url}" tabindex="-1" aria-hidden="true">'
                f'<img class="thumb" src="{url}" alt="" loading="lazy"></a>\n    {link}</li>'
            )
        else:
            items.append(f"<li>\n    {link}</li>")
    return '<ul class="attachments">\n  ' + "\n  ".join(items) + "\n</ul>"


def render_timeline(items: Iterable[ThreadEntry | Event], originals: dict[int, int] | None = None) -> SafeString:
    """The <li> items of the timeline <ol>, oldest first, as selectors.timeline orders them.

    Plain f-strings with escape() on every value: format_html's per-call overhead was a
    measurable part of a 200-entry page."""
    badges = {
        EntryKind.NOTE: f'<span class="badge badge-internal">{escape(_("Internal note"))}</span>',
        EntryKind.RESPONSE: f'<span class="badge badge-response">{escape(_("Response"))}</span>',
        EntryKind.MESSAGE: f'<span class="badge">{escape(_("Message"))}</span>',
    }
    unknown = _("Unknown sender")
    originals = originals or {}
    original_label = escape(_("View original email"))
    out = []
    for item in items:
        if isinstance(item, Event):
            out.append(
                f'<li class="event" id="event-{item.pk}"><span>{escape(event_sentence(item))} · '
                f"{time_element(item.created_at)}</span></li>"
            )
            continue
        files = item.files  # fetched with the entries by selectors.timeline
        body, inline = link_inline_images(fold_quotes(item.body_html or ""), files, _file_url)
        files = [f for f in files if f.pk not in inline]
        original = _original_link(originals.get(item.pk), original_label)
        out.append(
            f'<li class="entry entry-{escape(item.kind)}" id="entry-{item.pk}">\n'
            f"  <header>\n    <span><strong>{escape(item.author_name or unknown)}</strong> "
            f"{badges.get(item.kind, badges[EntryKind.MESSAGE])}</span>\n"
            f"    {time_element(item.created_at)}{original}\n  </header>\n"
            # body_html was sanitised when stored; fold_quotes re-sanitises whatever it changes.
            f'  <div class="body">{body}</div>\n'
            f"  {_attachments(files) if files else ''}</li>"
        )
    return mark_safe("\n".join(out))  # fixed markup; every value escaped or sanitised
