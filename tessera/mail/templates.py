"""The notifications an administrator may reword, the variables each may use, and how a reworded
one is rendered.

Administrators write Django template strings, so rendering must not become a way to reach data or
code they were not meant to: templates run on a dedicated Engine (built-in tags and filters only,
no loaders, nothing to {% load %}, unknown variables render as ""), and they never see a model.
`render_notice` builds a plain dict holding only the documented variables, computed from the send
path's context, so `{{ ticket.user.password }}` or a method with side effects cannot be reached
even by a template saved past the form's checks. The HTML version is made from the rendered text
(escaped, links made clickable, paragraphs kept) inside the built-in emails' layout, so an
administrator cannot inject markup into anyone's mail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.template import Context, Engine, Template, engines
from django.utils import translation
from django.utils.functional import Promise
from django.utils.html import linebreaks, urlize
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from tessera.single_line import single_line
from tessera.tickets.models import State

from .models import EmailTemplate

if TYPE_CHECKING:
    from django.template.backends.base import _EngineTemplate

# The values a notice is rendered from: the send path's context, or the documented variables
# nested by name (see allowed_context).
Values = dict[str, object]

log = logging.getLogger(__name__)

# No loaders (so {% include %} and {% extends %} find nothing), no libraries (so {% load %} has
# nothing to load), autoescape off because the result is plain text, "" for anything missing.
ENGINE = Engine(loaders=[], libraries={}, autoescape=False, string_if_invalid="", debug=False)
# The same, with debug on: compile errors then carry the line they happened on (used by the form).
CHECKING_ENGINE = Engine(loaders=[], libraries={}, autoescape=False, string_if_invalid="", debug=True)

DOCS = "docs/email-templates.md"


def _get(source: object, path: str) -> object:
    """Follow a dotted path through objects or dicts, as the send path hands over either."""
    value = source
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        if callable(value) and not isinstance(value, type):
            value = value()
    return value


@dataclass(frozen=True)
class Variable:
    """One documented variable: its dotted name in templates, what it means, and where its value
    comes from in the send path's context (a dotted path or a function of that context)."""

    name: str
    description: Promise | str
    source: str | Callable[[Values], object] | None = None
    example: object = ""

    def value(self, context: Values) -> object:
        if callable(self.source):
            return self.source(context)
        return _get(context, self.source or self.name)


def _state_label(key: str) -> Callable[[Values], object]:
    def label(context: Values) -> object:
        value = context.get(key)
        return str(State(value).label) if value in State.values else (value or "")

    return label


def _assigned_to_team(context: Values) -> bool:
    return not context.get("agent_id") and bool(context.get("team_id"))


_EXAMPLE_TIME = datetime(2026, 3, 2, 9, 30)  # noqa: DTZ001  a wall-clock example: previews show 09:30 in every time zone

COMMON = [
    Variable("ticket.number", _("The ticket's number, e.g. 482913."), example=482913),
    Variable("ticket.reference", _("The number as shown to people, e.g. #482913."), example="#482913"),
    Variable("ticket.subject", _("The ticket's subject."), example="Printer jams on page two"),
    Variable("ticket.status.name", _("Its status, e.g. Open."), example="Open"),
    Variable("ticket.priority.name", _("Its priority."), example="Normal"),
    Variable("ticket.department.name", _("The department handling it."), example="Support"),
    Variable("ticket.topic.name", _("Its help topic (empty if none)."), example="General question"),
    Variable("ticket.user.display_name", _("The requester's name (or address if no name)."), example="Ken Adams"),
    Variable("ticket.user.email", _("The requester's email address."), example="ken@example.com"),
    Variable("ticket.assignee.name", _("The agent it is assigned to (empty if none)."), example="John Doe"),
    Variable("ticket.team.name", _("The team it is assigned to (empty if none)."), example=""),
    Variable("ticket.created_at", _("When it was opened (use the date filter)."), example=_EXAMPLE_TIME),
    Variable("recipient.display_name", _("The full name of the person this email goes to."), example="Ken Adams"),
    Variable(
        "recipient.short_name",
        _("Their first name (or address if no name)."),
        source="recipient.get_short_name",
        example="Ken",
    ),
    Variable("recipient.email", _("Their email address."), example="ken@example.com"),
    Variable(
        "link",
        _("Where they follow the ticket: the workspace for agents, a personal access link for everyone else."),
        example="https://help.example.com/t/482913/abcdef/",
    ),
    Variable("is_agent", _("True when the recipient works the ticket as an agent."), example=False),
]

ENTRY = [
    Variable("entry.author_name", _("Who wrote the message."), example="Ken Adams"),
    Variable(
        "entry.body_text",
        _("The message, as plain text."),
        example="The printer on floor 2 jams on page two of every job.",
    ),
]

STATE_CHANGE = [
    Variable(
        "old_state", _("The state before the change, e.g. Open."), source=_state_label("old_state"), example="Open"
    ),
    Variable(
        "new_state", _("The state after it, e.g. Resolved."), source=_state_label("new_state"), example="Resolved"
    ),
]

ASSIGNMENT = [
    Variable(
        "assigned_to_team",
        _("True when the ticket went to a team rather than to the recipient personally."),
        source=_assigned_to_team,
        example=False,
    ),
]


# What an agent needs to act on an alert without opening the ticket (outbound._alert_context).
ALERT = [
    Variable("actor.display_name", _("Who acted (empty for the customer's own messages)."), example="John Doe"),
    Variable("ticket.due_at", _("When the ticket is due, if ever (use the date filter)."), example=_EXAMPLE_TIME),
    Variable("note.author_name", _("Who wrote the note or reason given with the change."), example="John Doe"),
    Variable("note.body_text", _("The note or reason given with the change (empty if none)."), example="Needs root."),
    Variable("latest_message.author_name", _("Who wrote the customer's latest message."), example="Ken Adams"),
    Variable(
        "latest_excerpt",
        _("The start of the customer's latest message (empty when this alert carries it as entry)."),
        example="The printer on floor 2 jams on page two of every job.",
    ),
]

SLA = [
    Variable(
        "target",
        _('Which target: “first_response” or “resolution” (e.g. {% if target == "resolution" %}).'),
        example="first_response",
    ),
    Variable(
        "ticket.first_response_due_at",
        _("When the first response is due (use the date filter)."),
        example=_EXAMPLE_TIME,
    ),
]

STATE_LINE = [
    Variable(
        "state_line",
        _("When the reply also resolved or closed the ticket, the sentence saying so; else empty."),
        example="This ticket is now resolved. If something is still not right, just reply and it reopens.",
    ),
]


@dataclass(frozen=True)
class Notice:
    key: str
    label: Promise | str
    description: Promise | str  # when it is sent and to whom
    variables: list[Variable] = field(default_factory=list)

    @property
    def all_variables(self) -> list[Variable]:
        return COMMON + self.variables

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.all_variables]


NOTICES: dict[str, Notice] = {
    n.key: n
    for n in [
        Notice(
            "new_ticket",
            _("New ticket: auto-reply to the requester"),
            _("Sent to the requester when a ticket is opened, to acknowledge it. Never sent to an auto-responder."),
            ENTRY,
        ),
        Notice(
            "response",
            _("Agent reply"),
            _("Sent to the requester and everyone copied when an agent posts a reply."),
            ENTRY + STATE_LINE,
        ),
        Notice(
            "resolved",
            _("Ticket resolved"),
            _("Sent to the requester and everyone copied when the ticket is marked resolved."),
        ),
        Notice(
            "closed",
            _("Ticket closed"),
            _("Sent to the requester and everyone copied when the ticket is closed."),
        ),
        Notice(
            "new_ticket_alert",
            _("New ticket alert"),
            _("Sent to the agents of the ticket's department when a ticket is opened."),
            ENTRY + ALERT,
        ),
        Notice(
            "message_alert",
            _("New message alert"),
            _("Sent to whoever handles the ticket (and agents who referred it) when the requester writes."),
            ENTRY + ALERT,
        ),
        Notice(
            "activity_alert",
            _("Activity alert"),
            _("Sent to the assignee and referring agents when someone else replies, notes or changes the state."),
            ENTRY + STATE_CHANGE + ALERT,
        ),
        Notice(
            "assigned_alert",
            _("Assignment alert"),
            _("Sent to the agent a ticket is assigned to, or to the members of the team it is assigned to."),
            ASSIGNMENT + ALERT,
        ),
        Notice(
            "transfer_alert",
            _("Transfer alert"),
            _("Sent to the agents of the department a ticket is transferred to."),
            ALERT,
        ),
        Notice(
            "sla_warning_alert",
            _("SLA warning"),
            _("Sent once to whoever handles the ticket when the plan's warning share of a target has passed."),
            SLA + ALERT,
        ),
        Notice(
            "sla_breach_alert",
            _("Overdue alert"),
            _("Sent once to whoever handles the ticket, and the department manager, when a target is missed."),
            SLA + ALERT,
        ),
    ]
}


def choices(exclude: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, Promise | str]]:
    return [(n.key, n.label) for n in NOTICES.values() if n.key not in exclude]


def _nest(pairs: list[tuple[str, object]]) -> Values:
    """{"ticket.status.name": "Open"} -> {"ticket": {"status": {"name": "Open"}}}."""
    root: Values = {}
    for name, value in pairs:
        node = root
        *parents, leaf = name.split(".")
        for part in parents:
            node = cast(Values, node.setdefault(part, {}))  # a parent name only ever holds a nested dict
        node[leaf] = value
    return root


def allowed_context(notice: str, context: Values) -> Values:
    """Only the documented variables of the notice, as plain values: the template never sees a
    model, so nothing undocumented (passwords, managers, methods) can be reached from it."""
    values = []
    for variable in NOTICES[notice].all_variables:
        value = variable.value(context)
        values.append((variable.name, "" if value is None else value))
    return _nest(values)


def sample_context(notice: str) -> Values:
    """A made-up ticket for previews, shaped like allowed_context."""
    return _nest([(v.name, v.example) for v in NOTICES[notice].all_variables])


_LAYOUT = "{% extends 'emails/_base.html' %}{% block body %}{{ body_html }}{% endblock %}"


@lru_cache(maxsize=1)
def _layout() -> _EngineTemplate:
    return engines["django"].from_string(_LAYOUT)


@lru_cache(maxsize=128)
def _compiled(source: str) -> Template:
    """An administrator's template, compiled once per process and text (a delivery renders one
    for every recipient; a changed template is new text, so it is compiled afresh)."""
    return ENGINE.from_string(source)


def text_to_html(text: str, values: Values) -> str:
    """The HTML alternative: the text escaped, links clickable, paragraphs and line breaks kept,
    in the layout of the built-in emails (which adds the ticket button and footer)."""
    body = linebreaks(urlize(text, nofollow=True, autoescape=True), autoescape=False)
    return _layout().render({**values, "body_html": mark_safe(body)})  # noqa: S308  escaped just above


def render_strings(subject: str, body: str, values: Values) -> tuple[str, str, str]:
    """(subject, text, html) from an administrator's subject and body over `values`."""
    context = Context(values, autoescape=False)
    # The subject becomes a mail header: one line, no encoded word, whatever the variables held.
    rendered_subject = single_line(_compiled(subject).render(context))
    # Template.render() marks its output safe; it is not (autoescape was off), so make it a plain
    # str again or urlize() below would trust it and let the administrator's markup through.
    text = str.__str__(_compiled(body).render(context))
    return rendered_subject, text, text_to_html(text, values)


def wording_for(notice: str, language: str) -> EmailTemplate | None:
    """The administrator's wording in the recipient's language, else the one for all languages
    (one query; render_notice runs inside the recipient's language, outbound.render)."""
    candidates = EmailTemplate.objects.filter(notice=notice, language__in=[language, ""])
    return min(candidates, key=lambda template: template.language != language, default=None)


def render_notice(notice: str, context: Values) -> tuple[str, str, str] | None:
    """(subject, text, html) from the administrator's template for this notice, or None when
    there is none (the built-in wording applies). A template that fails to render (only possible
    if it was saved without the admin's checks) is logged and the built-in wording is used, so the
    mail still goes out."""
    if notice not in NOTICES:
        return None
    template = wording_for(notice, translation.get_language() or settings.LANGUAGE_CODE)
    if template is None:
        return None
    try:
        return render_strings(template.subject, template.body, allowed_context(notice, context))
    except Exception:
        log.exception("Email template %r could not be rendered; using the built-in wording", notice)
        return None
