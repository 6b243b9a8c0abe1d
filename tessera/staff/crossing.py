"""A reply never silently crosses another agent's: when someone replied since the form was
loaded, or is writing a reply right now, the reply waits for "Send anyway".

Asked by the ticket page's reply action (views.ticket_action); the lock it consults is
tickets.locks' advisory reply lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import QueryDict
from django.utils.translation import gettext as _

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.tickets import locks
from tessera.tickets.models import EntryKind, ThreadEntry, Ticket, TicketLock


@dataclass
class Crossing:
    """Why a reply was held back for confirmation rather than sent over someone else's."""

    problems: list[str]
    replies: list[ThreadEntry]  # other agents' replies posted since the form was loaded
    holder: TicketLock | None  # another agent writing a reply right now


CONFIRM_FIELD = "reply-confirm_cross"
SEEN_FIELD = "reply-seen"


def _seen(data: QueryDict) -> int | None:
    """The last thread entry the form's page showed; None when the form did not say."""
    raw = data.get(SEEN_FIELD, "")
    return int(raw) if raw.isdecimal() and len(raw) < 19 else None


def reply_crossing(request: AuthenticatedHttpRequest, ticket: Ticket, *, stale: bool) -> Crossing | None:
    """Should this reply wait for "Send anyway"? Only the reply action asks.

    `stale`: the form's version is behind the ticket's. Then another agent's reply posted since
    the page was drawn (entries newer than the form's `seen`) is the news worth stopping for.
    Whether stale or not, another agent's fresh reply lock stops it too, unless the agent
    already confirmed (`confirm_cross=1`, the "Send anyway" button). Returns None when nothing
    crosses: the caller then sends the reply, or shows its plain "ticket changed" message.
    """
    user = request.user
    confirmed = request.POST.get(CONFIRM_FIELD) == "1"
    replies: list[ThreadEntry] = []
    seen = _seen(request.POST)
    if stale and seen is not None:
        replies = list(
            ThreadEntry.objects.filter(ticket_id=ticket.pk, kind=EntryKind.RESPONSE, pk__gt=seen)
            .exclude(author_id=user.pk)
            .order_by("created_at", "id")
        )
    holder = None if confirmed else locks.lock_held_by_other(user, ticket)
    if not replies and holder is None:
        return None
    problems = []
    if replies:
        names = ", ".join(dict.fromkeys(e.author_name or _("another agent") for e in replies))
        problems.append(
            _("%(names)s replied to this ticket while you were writing. Read the new reply before sending yours.")
            % {"names": names}
        )
    elif stale:
        problems.append(
            _("Ticket %(ref)s changed while you were working on it. Review the latest activity, then try again.")
            % {"ref": ticket.reference}
        )
    if holder is not None:
        problems.append(locks.holder_message(holder))
    problems.append(_("Your reply was not sent. To send it as it is, choose “Send anyway”."))
    return Crossing(problems, replies, holder)
