"""One readable, translatable sentence per timeline event, for every page and message that
shows a ticket's history."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Event, EventKind


def event_sentence(event: Event) -> str:
    """One readable, translatable sentence per timeline event, naming the channel a change came
    through when it was not the person's own session (an API key: `tickets.channel`)."""
    sentence = _sentence(event)
    via = (event.data or {}).get("via")
    if via:
        return _("%(sentence)s, through %(via)s") % {"sentence": sentence, "via": via}
    return sentence


def _sentence(event: Event) -> str:
    """The sentence itself.

    Built from the names stored on the event (actor_name, before, after), never from live
    relations, so the sentence stays true after people or departments are renamed and the
    timeline needs no extra queries. Returned as plain text: the template escapes it.
    """
    names = {"actor": event.actor_name or _("System"), "before": event.before, "after": event.after}
    data = event.data or {}
    kind = event.kind
    if data.get("auto"):
        automatic = _automatic_sentence(event, names, data)
        if automatic:
            return automatic
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
    if kind == EventKind.TOPIC:
        if not event.after:
            return _("%(actor)s removed the help topic %(before)s") % names
        if event.before:
            return _("%(actor)s changed the help topic from %(before)s to %(after)s") % names
        return _("%(actor)s set the help topic to %(after)s") % names
    if kind == EventKind.RULE_APPLIED:
        return _("Routing rule %(after)s applied: %(actions)s") % {**names, "actions": data.get("actions") or "-"}
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
    if kind == EventKind.SLA_PLAN:
        if data.get("chosen") == "no":
            return _("%(actor)s let the help topic or department choose the SLA plan (now %(after)s)") % names
        return _("%(actor)s put the ticket on the SLA plan %(after)s") % names
    if kind == EventKind.DUE_DATE:
        if data.get("manual") == "no":
            return _("%(actor)s removed the due date set by hand; the SLA plan's applies") % names
        return _("%(actor)s set the due date by hand") % names
    if kind == EventKind.SLA_WARNING:
        if data.get("target") == "first_response":
            return _("The first response is nearly due")
        return _("The resolution is nearly due")
    if kind == EventKind.SLA_BREACHED:
        if data.get("target") == "first_response":
            return _("The first response was not given in time (SLA missed)")
        return _("The ticket was not resolved in time (SLA missed)")
    if kind == EventKind.INTAKE_WARNING:
        return _("Not used from the request (%(before)s): %(after)s") % names
    if kind == EventKind.INTAKE_DETAILS:
        return _("The request also gave %(after)s") % names
    if kind in TASK_SENTENCES:
        # event.after is the task as it was named then ("#12 Replace the toner"); data["to"] whom
        # or where an assignment or transfer sent it; data["from"] the merged ticket it came from.
        task = {**names, "task": event.after, "to": str(data.get("to") or ""), "from": str(data.get("from") or "")}
        return TASK_SENTENCES[kind]() % task
    if kind == EventKind.FIELD_CHANGED:
        field = {**names, "field": str(data.get("label") or data.get("key") or "")}
        if not event.after:
            return _("%(actor)s cleared %(field)s (was %(before)s)") % field
        if event.before:
            return _("%(actor)s changed %(field)s from %(before)s to %(after)s") % field
        return _("%(actor)s set %(field)s to %(after)s") % field
    if kind == EventKind.SATISFACTION:
        return _satisfaction_sentence(event, names, data)
    # A kind added later still reads as something, rather than vanishing from the timeline.
    return _("%(actor)s: %(what)s") % {**names, "what": event.get_kind_display()}


# Tasks on the ticket (tessera.tasks; written by services/task_events.py), translated when used.
TASK_SENTENCES: dict[str, Callable[[], str]] = {
    EventKind.TASK_CREATED: lambda: _("%(actor)s created task %(task)s"),
    EventKind.TASK_UPDATED: lambda: _("%(actor)s edited task %(task)s"),
    EventKind.TASK_ASSIGNED: lambda: _("%(actor)s assigned task %(task)s to %(to)s"),
    EventKind.TASK_TRANSFERRED: lambda: _("%(actor)s transferred task %(task)s to %(to)s"),
    EventKind.TASK_NOTE: lambda: _("%(actor)s added a note to task %(task)s"),
    EventKind.TASK_CLOSED: lambda: _("%(actor)s closed task %(task)s"),
    EventKind.TASK_REOPENED: lambda: _("%(actor)s reopened task %(task)s"),
    EventKind.TASK_MOVED: lambda: _("%(actor)s merged ticket %(from)s into this one, with its task %(task)s"),
    EventKind.TASK_DELETED: lambda: _("%(actor)s deleted task %(task)s"),
}


def _satisfaction_sentence(event: Event, names: dict[str, str], data: dict[str, object]) -> str:
    """The requester's rating (tessera.satisfaction), with their comment when they wrote one."""
    rated = {**names, "comment": str(data.get("comment") or "")}
    if event.before:
        if rated["comment"]:
            return _("%(actor)s changed their rating from %(before)s to %(after)s out of 5: “%(comment)s”") % rated
        return _("%(actor)s changed their rating from %(before)s to %(after)s out of 5") % rated
    if rated["comment"]:
        return _("%(actor)s rated the help %(after)s out of 5: “%(comment)s”") % rated
    return _("%(actor)s rated the help %(after)s out of 5") % rated


def _automatic_sentence(event: Event, names: dict[str, str], data: dict[str, object]) -> str:
    """What the desk did by itself (automatic assignment, escalation rules, auto-close), or ""
    for a kind these never write."""
    kind, auto = event.kind, data.get("auto")
    if auto in ("round_robin", "fewest_open") and kind == EventKind.ASSIGNED:
        if auto == "round_robin":
            return _("Assigned to %(after)s automatically (round robin)") % names
        return _("Assigned to %(after)s automatically (fewest open tickets)") % names
    if auto == "quiet" and kind == EventKind.STATUS:
        days = int(str(data.get("days") or 0))
        return ngettext(
            "Closed automatically after %(days)d day without reply",
            "Closed automatically after %(days)d days without reply",
            days,
        ) % {"days": days}
    if auto != "escalation":
        return ""
    rule = {**names, "rule": str(data.get("rule") or "")}
    if kind == EventKind.PRIORITY:
        return _("Escalation rule “%(rule)s” raised the priority from %(before)s to %(after)s") % rule
    if kind == EventKind.ASSIGNED and "team_id" in data:
        return _("Escalation rule “%(rule)s” handed the ticket to team %(after)s") % rule
    if kind == EventKind.ASSIGNED:
        if event.before:
            return _("Escalation rule “%(rule)s” reassigned the ticket from %(before)s to %(after)s") % rule
        return _("Escalation rule “%(rule)s” assigned the ticket to %(after)s") % rule
    if kind == EventKind.RELEASED:
        return _("Escalation rule “%(rule)s” released the ticket from %(before)s") % rule
    return ""
