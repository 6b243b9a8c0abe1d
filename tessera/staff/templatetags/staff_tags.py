"""Presentation helpers for the agent workspace: timeline sentences, times and queue counts."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from tessera.staff.queue_rows_html import render_rows
from tessera.staff.timeline_html import time_element
from tessera.tickets import selectors
from tessera.tickets.models import Event, EventKind

register = template.Library()


def event_sentence(event: Event) -> str:
    """One readable, translatable sentence per timeline event.

    Built from the names stored on the event (actor_name, before, after), never from live
    relations, so the sentence stays true after people or departments are renamed and the
    timeline needs no extra queries. Returned as plain text: the template escapes it.
    """
    names = {"actor": event.actor_name or _("System"), "before": event.before, "after": event.after}
    data = event.data or {}
    kind = event.kind
    if kind == EventKind.CREATED:
        if event.after:
            return _("%(actor)s opened the ticket in %(after)s") % names
        return _("%(actor)s opened the ticket") % names
    if kind == EventKind.ASSIGNED:
        if "team_id" in data:
            if event.before:
                return _("%(actor)s reassigned the ticket from team %(before)s to team %(after)s") % names
            return _("%(actor)s assigned the ticket to team %(after)s") % names
        if event.before:
            return _("%(actor)s reassigned the ticket from %(before)s to %(after)s") % names
        return _("%(actor)s assigned the ticket to %(after)s") % names
    if kind == EventKind.CLAIMED:
        return _("%(actor)s claimed the ticket") % names
    if kind == EventKind.RELEASED:
        if event.before:
            return _("%(actor)s released the ticket from %(before)s") % names
        return _("%(actor)s released the ticket") % names
    if kind == EventKind.TRANSFERRED:
        return _("%(actor)s transferred the ticket from %(before)s to %(after)s") % names
    if kind == EventKind.PRIORITY:
        return _("%(actor)s changed priority from %(before)s to %(after)s") % names
    if kind == EventKind.STATUS:
        return _("%(actor)s changed status from %(before)s to %(after)s") % names
    if kind == EventKind.REOPENED:
        return _("%(actor)s reopened the ticket") % names
    if kind == EventKind.NOTE:
        return _("%(actor)s added an internal note") % names
    if kind == EventKind.REPLIED:
        return _("%(actor)s replied") % names
    if kind == EventKind.MESSAGE:
        return _("%(actor)s sent a message") % names
    if kind == EventKind.COLLABORATOR_ADDED:
        return _("%(actor)s copied %(after)s on the ticket") % names
    if kind == EventKind.COLLABORATOR_REMOVED:
        return _("%(actor)s stopped copying %(before)s on the ticket") % names
    if kind == EventKind.REFERRED:
        return _("%(actor)s keeps following the ticket after sending it on") % names
    if kind == EventKind.MERGED:
        if "into" in data:
            return _("%(actor)s merged %(before)s into %(after)s") % names
        return _("%(actor)s merged %(before)s into this ticket") % names
    if kind == EventKind.LINKED:
        return _("%(actor)s linked this ticket to %(after)s") % names
    if kind == EventKind.UNLINKED:
        return _("%(actor)s unlinked this ticket from %(before)s") % names
    if kind == EventKind.AUTO_REPLY:
        return _("Automatic reply from %(before)s (not answered): %(after)s") % names
    if kind == EventKind.BOUNCE:
        return _("Email to %(before)s bounced: %(after)s") % names
    if kind == EventKind.MAIL_REFUSED:
        return _("Email from %(before)s was refused: %(after)s") % names
    if kind == EventKind.DELIVERY_FAILED:
        return _("Email to %(before)s could not be sent: %(after)s") % names
    # A kind added later still reads as something, rather than vanishing from the timeline.
    return _("%(actor)s: %(what)s") % {**names, "what": event.get_kind_display()}


register.filter("event_sentence", event_sentence)


@register.filter
def is_event(item: object) -> bool:
    return isinstance(item, Event)


@register.simple_tag
def when(value: datetime | None, style: str = "DATETIME_FORMAT") -> SafeString | str:
    """A <time> in the viewer's time zone, with the zone named in the tooltip."""
    return time_element(value, style)


@register.filter
def queue_count(value: int) -> str:
    """Counts are capped in the selector; past the cap the exact number is not worth a scan."""
    cap = selectors.COUNT_CAP
    if value > cap:
        return _("%(count)s+") % {"count": number_format(cap, force_grouping=True)}
    return number_format(value, force_grouping=True)


@register.simple_tag
def queue_rows(tickets, columns, arrived=False) -> SafeString:
    """`{% queue_rows tickets columns arrived %}`: the queue table's rows (queue_rows_html)."""
    return render_rows(tickets, columns, arrived=bool(arrived))


@register.simple_tag
def options(choices, selected) -> SafeString:
    """`{% options pairs selected %}`: an <option> per (value, label) pair, marking the one
    selected value (or every value in a list or set of them). A filter form lists hundreds of
    organisations and agents; a loop in the template cost milliseconds per page."""
    chosen = selected if isinstance(selected, list | tuple | set | frozenset) else (selected,)
    return mark_safe(  # every value escaped
        "".join(
            f'<option value="{escape(value)}"{" selected" if value in chosen else ""}>{escape(label)}</option>'
            for value, label in choices
        )
    )
