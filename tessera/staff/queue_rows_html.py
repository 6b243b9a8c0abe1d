"""The rows of a queue table, built in Python rather than in the template.

A queue page draws 50 rows of up to a dozen cells; in the template engine that was the larger
part of the page's time at a million tickets (bench/RESULTS.md). The markup is fixed and every
value is escaped, as in timeline_html. Used by the queue page and by the arrivals fragment
(templates/staff/_queue_rows.html), so both draw identical rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from tessera.tickets.models import Ticket

from .timeline_html import time_element


def _assignee(t: Ticket, unassigned: str) -> str:
    if t.assignee:
        team = f'<br><span class="muted">{escape(t.team.name)}</span>' if t.team else ""
        return f"{escape(t.assignee.name)}{team}"
    if t.team:
        return escape(t.team.name)
    return unassigned


def _due(t: Ticket, overdue: str, none: str) -> str:
    if not t.due_at:
        return none
    badge = f" {overdue}" if t.is_overdue else ""
    return f"{time_element(t.due_at, 'SHORT_DATETIME_FORMAT')}{badge}"


def _cells(unassigned: str, overdue: str, none: str) -> dict[str, Callable[[Ticket], str]]:
    """Column name → the <td> for one ticket."""
    return {
        "user": lambda t: f'<td class="col-user">{escape(t.user.display_name)}</td>',
        "priority": lambda t: (
            f'<td class="col-priority"><span class="badge badge-priority priority-{escape(t.priority.urgency)}">'
            f"{escape(t.priority.name)}</span></td>"
        ),
        "status": lambda t: (
            f'<td class="col-status"><span class="badge state-{escape(t.state)}">{escape(t.status.name)}</span></td>'
        ),
        "assignee": lambda t: f'<td class="col-assignee">{_assignee(t, unassigned)}</td>',
        "department": lambda t: f'<td class="col-department">{escape(t.department.name)}</td>',
        "topic": lambda t: f'<td class="col-topic">{escape(t.topic.name) if t.topic else ""}</td>',
        "source": lambda t: f'<td class="col-source">{escape(t.get_source_display())}</td>',
        "created": lambda t: f'<td class="when col-created">{time_element(t.created_at, "SHORT_DATETIME_FORMAT")}</td>',
        "updated": lambda t: f'<td class="when col-updated">{time_element(t.updated_at, "SHORT_DATETIME_FORMAT")}</td>',
        "due": lambda t: f'<td class="when col-due">{_due(t, overdue, none)}</td>',
    }


def render_rows(
    tickets: Iterable[Ticket], columns: Sequence[tuple[str, object]], *, arrived: bool = False
) -> SafeString:
    """One <tr> per ticket: the selection checkbox, number, subject, then the chosen columns.
    `columns` is the (name, label) list the page's headers use."""
    cells = _cells(
        unassigned=f'<span class="muted">{escape(_("Unassigned"))}</span>',
        overdue=f'<span class="badge badge-overdue">{escape(_("Overdue"))}</span>',
        none=f'<span class="muted">{escape(_("None"))}</span>',
    )
    chosen = [cells[name] for name, _label in columns if name in cells]
    new_badge = f' <span class="badge badge-new">{escape(_("New"))}</span>' if arrived else ""
    row_class = ' class="new"' if arrived else ""
    out = []
    for t in tickets:
        href = escape(reverse("staff:ticket", args=[t.number]))
        select_label = escape(_("Select ticket #%(number)s") % {"number": t.number})
        out.append(
            f'\n      <tr id="ticket-row-{t.pk}"{row_class} data-id="{t.pk}" data-cursor="{escape(t.cursor)}" '
            f'data-href="{href}" tabindex="-1">\n'
            f'        <td class="select"><input type="checkbox" name="tickets" value="{t.number}" '
            f'aria-label="{select_label}"></td>\n'
            f'        <td class="num">#{t.number}</td>\n'
            f'        <td class="subject"><a href="{href}">{escape(t.subject)}</a>{new_badge}</td>\n'
            f"        {''.join(cell(t) for cell in chosen)}\n      </tr>"
        )
    return mark_safe("".join(out))  # fixed markup; every value escaped
