"""HTML built in Python for speed: the measured exceptions to "markup lives in templates".

Five pieces of markup are drawn here instead of by the template engine, each because it ran
once per row, option or entry and cost real time at a million tickets (bench/RESULTS.md):

- the ticket page's timeline (`render_timeline`, with `time_element` for every <time>);
- the rows of a queue table (`render_rows`), for the queue page and its arrivals fragment;
- every <select> drawn through Django's forms (`render_select`, used by form_renderer);
- long <option> lists on the queue filters (`render_options`, the `{% options %}` tag);
- search results' matched words (`fts_marked`, FTS5 output with <mark> around matches).

The rules that keep them safe, all in this one module:

- the markup is fixed text in this file; every value goes through `esc`, the one escaping
  helper, which escapes exactly as the template engine's autoescape does (a value already
  marked safe passes through, anything else is escaped, quotes included);
- the only exceptions are a thread entry's body_html, sanitised when it was stored (and
  re-sanitised by quote folding when that changes it), and `time_element`'s output, built
  here from escaped parts;
- each generator has a test that feeds it hostile values and compares its output with the
  Django template it replaces (tests/test_fast_html.py).

Plain f-strings rather than format_html: format_html's per-call overhead was a measurable
part of a 200-entry timeline.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from tessera.search.index import MARK_END, MARK_START
from tessera.staff.access import previewable
from tessera.tickets.content import link_inline_images
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import Attachment, EntryKind, Event, ThreadEntry, Ticket
from tessera.tickets.quote_folding import fold_quotes


def esc(value: Any) -> str:
    """The one escaping helper: what `{{ value }}` prints in an autoescaped template."""
    if hasattr(value, "__html__"):
        safe: str = value.__html__()
        return safe
    return html.escape(str(value))


def attrs(pairs: dict[str, Any]) -> str:
    """HTML attributes as Django's attrs.html writes them: True is a bare name, False left out."""
    out = []
    for name, value in pairs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {esc(name)}")
        else:
            out.append(f' {esc(name)}="{esc(value)}"')
    return "".join(out)


# ---------------------------------------------------------------------------- times


def time_element(value: datetime | None) -> SafeString | str:
    """Every time the workspace shows, in one form: relative to now in the viewer's time zone
    ("just now", "12 min ago", "today 16:05", "yesterday 16:05", "3 Dec 16:05", "3 Dec 2025"),
    the hour always with its minutes, and the exact time with its zone in the tooltip."""
    if value is None:
        return ""
    zone = timezone.get_current_timezone()
    parts = _time_parts(value, zone, get_language())
    label = _relative_label(parts, timezone.localtime(timezone.now(), zone))
    return mark_safe(f"{parts.opening}{esc(label)}</time>")  # built from escaped parts


class _TimeParts(NamedTuple):
    opening: str  # <time datetime=… title=…>
    exact: str  # Tuesday 3 March 2026, 16:05 CET (escaped)
    local: datetime
    clock: str  # 16:05
    day_and_clock: str  # 3 Dec 16:05
    day_and_year: str  # 3 Dec 2025


@lru_cache(maxsize=16_384)
def _time_parts(value: datetime, zone: tzinfo, language: str | None) -> _TimeParts:
    """Django's date formatting costs about 30 µs a call and a long ticket shows hundreds of
    times; these parts depend only on the arguments (formats are fixed while a process runs), so
    a worker formats each time once per zone and language. Only the cheap choice between them
    depends on the clock (_relative_label)."""
    local = timezone.localtime(value, zone)
    # Translators: PHP-style date formats (https://docs.djangoproject.com/en/stable/ref/templates/builtins/#date)
    exact = date_format(local, pgettext("exact time in a tooltip", "l j F Y, H:i"))
    title = esc(f"{exact} {local.tzname() or ''}".strip())
    clock = date_format(local, pgettext("time of day", "H:i"))
    return _TimeParts(
        opening=f'<time datetime="{local.isoformat()}" title="{title}">',
        exact=title,
        local=local,
        clock=clock,
        day_and_clock=date_format(local, pgettext("day in this year with time of day", "j M H:i")),
        day_and_year=date_format(local, pgettext("day in another year", "j M Y")),
    )


def _relative_label(parts: _TimeParts, now: datetime) -> str:
    seconds = (parts.local - now).total_seconds()
    if abs(seconds) < 60:
        return _("just now")
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        if seconds < 0:
            return ngettext("%(n)d min ago", "%(n)d min ago", minutes) % {"n": minutes}
        return ngettext("in %(n)d min", "in %(n)d min", minutes) % {"n": minutes}
    days = (parts.local.date() - now.date()).days
    if days == 0:
        return _("today %(time)s") % {"time": parts.clock}
    if days == -1:
        return _("yesterday %(time)s") % {"time": parts.clock}
    if days == 1:
        return _("tomorrow %(time)s") % {"time": parts.clock}
    if parts.local.year == now.year:
        return parts.day_and_clock
    return parts.day_and_year


# ---------------------------------------------------------------------------- due times


def owed_due(ticket: Ticket) -> tuple[datetime | None, str]:
    """(the next due time the desk owes, which target): the first response while unanswered,
    else the resolution."""
    if ticket.first_response_at is None and ticket.first_response_due_at is not None:
        return ticket.first_response_due_at, "first_response"
    return ticket.due_at, "resolution"


def duration_words(seconds: float) -> str:
    """ "3 d 4 h", "2 h 10 min", "35 min": the two largest units, at least a minute."""
    minutes = max(1, int(abs(seconds) // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours} if hours else _("%(d)d d") % {"d": days}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins} if mins else _("%(h)d h") % {"h": hours}
    return _("%(m)d min") % {"m": mins}


def largest_unit(seconds: float) -> str:
    """ "3 d", "2 h", "42 min": the largest unit only, rounded down (at least a minute), for a
    queue cell that must stay narrow; the exact time is in its title."""
    minutes = max(1, int(abs(seconds) // 60))
    if minutes >= 24 * 60:
        return _("%(d)d d") % {"d": minutes // (24 * 60)}
    if minutes >= 60:
        return _("%(h)d h") % {"h": minutes // 60}
    return _("%(m)d min") % {"m": minutes}


SOON_SECONDS = 3600  # "Breaching in the next hour" (tickets.selectors.BREACHING_WINDOW)


def due_element(ticket: Ticket, now: datetime | None = None, *, compact: bool = False) -> SafeString | str:
    """The time left or overdue on an active ticket, in words ("due in 2 h 10 min", "overdue
    by 35 min"), its exact due time in the viewer's zone on hover; "Paused" while it waits on
    the customer; a closed ticket's due time as any other time. "" when nothing is due.

    `compact` is the queue row's form, short enough for every row to stay on one line at
    1366 px: "in 42 min", "3 h overdue", "Paused", the rest in the title."""
    paused = _("Paused: waiting on the customer")
    if ticket.state == "pending":
        if compact:
            return f'<span class="due due-paused" title="{esc(paused)}">{esc(_("Paused"))}</span>'
        return f'<span class="due due-paused">{esc(paused)}</span>'
    when, target = owed_due(ticket)
    if when is None:
        return ""
    if ticket.state != "open":
        return time_element(when)
    now = now or timezone.now()
    parts = _time_parts(when, timezone.get_current_timezone(), get_language())
    left = (when - now).total_seconds()
    if left < 0:
        state = "due-overdue"
        if compact:
            # Translators: a queue cell, e.g. "3 h overdue"
            label = _("%(time)s overdue") % {"time": largest_unit(left)}
        else:
            label = _("overdue by %(time)s") % {"time": duration_words(left)}
    else:
        state = "due-soon" if left < SOON_SECONDS else ""
        if compact:
            # Translators: a queue cell, e.g. "in 42 min"
            label = _("in %(time)s") % {"time": largest_unit(left)}
        else:
            label = _("due in %(time)s") % {"time": duration_words(left)}
    what = esc(_("First response due:") if target == "first_response" else _("Resolution due:"))
    opening = f'<time class="due {state}" datetime="{parts.local.isoformat()}" title="{what} {parts.exact}">'
    return mark_safe(f"{opening}{esc(label)}</time>")  # built from escaped parts


# ---------------------------------------------------------------------------- the ticket page's timeline


def _file_url(file: Attachment) -> str:
    return reverse("staff:attachment", args=[file.pk])


def _original_link(inbound_id: int | None, label: str) -> str:
    """Entries that came by email link to the message as received, quoted history included."""
    if inbound_id is None:
        return ""
    return f' <a class="original-link" href="{esc(reverse("mail:original", args=[inbound_id]))}">{label}</a>'


def _attachments(files: list[Attachment]) -> str:
    items = []
    for file in files:
        url = esc(_file_url(file))
        size = esc(filesizeformat(file.size))
        link = f'<span><a href="{url}">{esc(file.name)}</a> <span class="muted">({size})</span></span>'
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
    `originals` maps an entry's id to the InboundMessage it came in (its "View original" link)."""
    badges: dict[str, str] = {  # keyed by kind: an entry's kind is read back as a plain str
        EntryKind.NOTE: f'<span class="badge badge-internal">{esc(_("Internal note"))}</span>',
        EntryKind.RESPONSE: f'<span class="badge badge-response">{esc(_("Response"))}</span>',
        EntryKind.MESSAGE: f'<span class="badge">{esc(_("Message"))}</span>',
    }
    unknown = _("Unknown sender")
    originals = originals or {}
    original_label = esc(_("View original email"))
    out = []
    for item in items:
        if isinstance(item, Event):
            out.append(
                f'<li class="event" id="event-{item.pk}"><span>{esc(event_sentence(item))} · '
                f"{time_element(item.created_at)}</span></li>"
            )
            continue
        files = item.files  # type: ignore[attr-defined]  # fetched with the entries by selectors.timeline
        body, inline = link_inline_images(fold_quotes(item.body_html or ""), files, _file_url)
        files = [f for f in files if f.pk not in inline]
        original = _original_link(originals.get(item.pk), original_label)
        out.append(
            f'<li class="entry entry-{esc(item.kind)}" id="entry-{item.pk}">\n'
            f"  <header>\n    <span><strong>{esc(item.author_name or unknown)}</strong> "
            f"{badges.get(item.kind, badges[EntryKind.MESSAGE])}</span>\n"
            f"    {time_element(item.created_at)}{original}\n  </header>\n"
            # body_html was sanitised when stored; fold_quotes re-sanitises whatever it changes.
            f'  <div class="body">{body}</div>\n'
            f"  {_attachments(files) if files else ''}</li>"
        )
    return mark_safe("\n".join(out))  # fixed markup; every value escaped or sanitised


# ---------------------------------------------------------------------------- queue rows


def _assignee(t: Ticket, unassigned: str) -> str:
    if t.assignee:
        if t.team:
            full = esc(f"{t.assignee.name} · {t.team.name}")
            team = f' <span class="muted">· {esc(t.team.name)}</span>'
            return f'<span class="cut" title="{full}">{esc(t.assignee.name)}{team}</span>'
        return _cut(t.assignee.name)
    if t.team:
        return _cut(t.team.name)
    return unassigned


def _cut(text: str) -> str:
    """A secondary cell's text, shortened by CSS on a narrow screen: the full text is its title."""
    return f'<span class="cut" title="{esc(text)}">{esc(text)}</span>'


def _due(t: Ticket, none: str, now: datetime) -> str:
    shown = due_element(t, now, compact=True)
    if not shown:
        return none
    if t.is_overdue:  # type: ignore[attr-defined]  # set on the row by queue_views._rows
        return f'<span class="badge badge-overdue">{shown}</span>'
    return shown


def _cells(unassigned: str, none: str, now: datetime) -> dict[str, Callable[[Ticket], str]]:
    """Column name → the <td> for one ticket. The requester links to their page in the directory."""
    person_prefix = esc(reverse("staff:people"))
    return {
        "user": lambda t: (
            f'<td class="col-user"><a href="{person_prefix}{t.user_id}/">{_cut(t.user.display_name)}</a></td>'
        ),
        "priority": lambda t: (
            f'<td class="col-priority"><span class="badge badge-priority priority-{esc(t.priority.urgency)}">'
            f"{esc(t.priority.name)}</span></td>"
        ),
        "status": lambda t: (
            f'<td class="col-status"><span class="badge state-{esc(t.state)}">{esc(t.status.name)}</span></td>'
        ),
        "assignee": lambda t: f'<td class="col-assignee">{_assignee(t, unassigned)}</td>',
        "department": lambda t: f'<td class="col-department">{_cut(t.department.name)}</td>',
        "topic": lambda t: f'<td class="col-topic">{_cut(t.topic.name) if t.topic else ""}</td>',
        "source": lambda t: f'<td class="col-source">{esc(t.get_source_display())}</td>',
        "created": lambda t: f'<td class="when col-created">{time_element(t.created_at)}</td>',
        "updated": lambda t: f'<td class="when col-updated">{time_element(t.updated_at)}</td>',
        "due": lambda t: f'<td class="when col-due">{_due(t, none, now)}</td>',
    }


def _custom_cell(name: str) -> Callable[[Ticket], str]:
    """A custom field's column: the answer as one line, set on the ticket by the queue view
    (`custom_cells`, read for the whole page in one query); "" unanswered."""

    def cell(t: Ticket) -> str:
        text = esc(getattr(t, "custom_cells", {}).get(name, ""))
        return f'<td class="col-cf"><span class="cut" title="{text}">{text}</span></td>'

    return cell


def render_rows(
    tickets: Iterable[Ticket], columns: Sequence[tuple[str, object]], *, arrived: bool = False
) -> SafeString:
    """One <tr> per ticket of a queue table: the selection checkbox, number, subject, then the
    chosen columns. `columns` is the (name, label) list the page's headers use; each ticket
    carries `cursor` and `is_overdue` (set by the queue view)."""
    cells = _cells(
        unassigned=f'<span class="muted">{esc(_("Unassigned"))}</span>',
        none=f'<span class="muted">{esc(_("None"))}</span>',
        now=timezone.now(),
    )
    chosen = [cells[name] if name in cells else _custom_cell(name) for name, _label in columns]
    new_badge = f' <span class="badge badge-new">{esc(_("New"))}</span>' if arrived else ""
    row_class = ' class="new"' if arrived else ""
    out = []
    for t in tickets:
        href = esc(reverse("staff:ticket", args=[t.number]))
        select_label = esc(_("Select ticket #%(number)s") % {"number": t.number})
        subject = esc(t.subject)
        out.append(
            f'\n      <tr id="ticket-row-{t.pk}"{row_class} data-id="{t.pk}" data-cursor="{esc(t.cursor)}" '  # type: ignore[attr-defined]  # set by queue_views._rows
            f'data-href="{href}" tabindex="-1">\n'
            f'        <td class="select"><input type="checkbox" name="tickets" value="{t.number}" '
            f'aria-label="{select_label}"></td>\n'
            f'        <td class="num">#{t.number}</td>\n'
            f'        <td class="subject"><a href="{href}" title="{subject}">{subject}</a>{new_badge}</td>\n'
            f"        {''.join(cell(t) for cell in chosen)}\n      </tr>"
        )
    return mark_safe("".join(out))  # fixed markup; every value escaped


# ---------------------------------------------------------------------------- selects and options


def render_select(widget: dict[str, Any]) -> SafeString:
    """Django's select.html and select_option.html for one widget context, option for option."""
    parts = [f'<select name="{esc(widget["name"])}"{attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{esc(group_name)}">')
        parts.extend(
            f'\n  <option value="{esc(option["value"])}"{attrs(option["attrs"])}>{esc(option["label"])}</option>'
            for option in options
        )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # fixed markup; every value escaped


def render_options(choices: Iterable[tuple[Any, Any]], selected: Any) -> SafeString:
    """An <option> per (value, label) pair, marking the one selected value (or every value in a
    list, tuple or set of them)."""
    chosen = selected if isinstance(selected, list | tuple | set | frozenset) else (selected,)
    return mark_safe(  # fixed markup; every value escaped
        "".join(
            f'<option value="{esc(value)}"{" selected" if value in chosen else ""}>{esc(label)}</option>'
            for value, label in choices
        )
    )


# ---------------------------------------------------------------------------- search


def fts_marked(text: str | None) -> SafeString:
    """FTS5 output with MARK_START/MARK_END around matches → escaped HTML with <mark>. The index
    turns both markers into spaces in stored text, so a message cannot forge a highlight; an
    unbalanced pair (a cut-off snippet) drops the marks rather than leave a <mark> open."""
    text = text or ""
    if text.count(MARK_START) != text.count(MARK_END):
        text = text.replace(MARK_START, "").replace(MARK_END, "")
    return mark_safe(esc(text).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))
