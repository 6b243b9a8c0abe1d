"""Presentation helpers for the agent workspace: times, queue counts, queue rows and options."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django import template
from django.utils.formats import number_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from tessera.fast_html import due_element, render_options, render_rows, time_element
from tessera.staff.priority_css import sheet_url
from tessera.tickets import policy, selectors
from tessera.tickets.models import Ticket

register = template.Library()


@register.simple_tag
def when(value: datetime | None) -> SafeString | str:
    """`{% when value %}`: the one form of every time in the workspace (fast_html.time_element)."""
    return time_element(value)


@register.simple_tag
def due(ticket: Ticket, form: str = "") -> SafeString | str:
    """`{% due ticket %}`: time left or overdue, the exact due time on hover (fast_html.due_element);
    `{% due ticket "row" %}` the queue row's short form ("in 42 min", "3 h overdue")."""
    return due_element(ticket, compact=form == "row")


@register.simple_tag
def priority_css_url() -> str:
    """The priority colours' stylesheet, versioned so browsers fetch it once per change."""
    return sheet_url()


@register.filter
def queue_count(value: int) -> str:
    """Counts are capped in the selector; past the cap the exact number is not worth a scan."""
    cap = selectors.COUNT_CAP
    if value > cap:
        return _("%(count)s+") % {"count": number_format(cap, force_grouping=True)}
    return number_format(value, force_grouping=True)


@register.simple_tag
def queue_rows(tickets: Iterable[Ticket], columns: Sequence[tuple[str, object]], arrived: object = False) -> SafeString:
    """`{% queue_rows tickets columns arrived %}`: the queue table's rows (fast_html.render_rows)."""
    return render_rows(tickets, columns, arrived=bool(arrived))


@register.simple_tag
def options(choices: Iterable[tuple[object, object]], selected: object) -> SafeString:
    """`{% options pairs selected %}`: an <option> per (value, label) pair, marking the one
    selected value (or every value in a list or set of them). A filter form lists hundreds of
    organisations and agents; a loop in the template cost milliseconds per page
    (fast_html.render_options)."""
    return render_options(choices, selected)


@register.simple_tag(takes_context=True)
def manages_canned(context: template.Context) -> bool:
    """Show the workspace's "Canned responses" link? (policy.canned_scope; the agent's
    memberships are usually read already by the page, and are cached on the agent.)"""
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user is not None and policy.workspace_agent(user) and policy.canned_scope(user).any)
