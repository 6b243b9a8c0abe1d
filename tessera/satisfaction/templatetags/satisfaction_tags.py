"""The survey where other pages show it: the portal's ticket page, the survey mail and the
agent's profile. Each tag reads what it needs itself (one query), so the pages that include
them pass nothing new."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from tessera.accounts.models import Agent, User
from tessera.tickets.models import State, Ticket

from .. import selectors, services, tokens
from ..forms import SCORE_WORDS
from ..models import MAX_SCORE, MIN_SCORE, Survey

register = template.Library()


@register.filter
def star_row(score: object) -> str:
    """★★★★☆ for 4: the score drawn, for people who read stars faster than numbers."""
    try:
        n = max(0, min(MAX_SCORE, int(str(score))))
    except ValueError:
        return ""
    return "★" * n + "☆" * (MAX_SCORE - n)


def _stars(survey: Survey, *, absolute: bool) -> list[dict[str, Any]]:
    link = tokens.rate_url if absolute else tokens.rate_path
    return [
        {"score": n, "words": SCORE_WORDS[n], "url": link(survey, n), "row": star_row(n)}
        for n in range(MIN_SCORE, MAX_SCORE + 1)
    ]


@register.inclusion_tag("satisfaction/_prompt.html")
def satisfaction_prompt(ticket: Ticket, viewer: object) -> dict[str, Any]:
    """On the portal's ticket page: the stars for a resolved or closed ticket its requester has
    not rated yet, or their rating while they may still change it. Nothing for anyone else."""
    if (
        ticket.state not in (State.RESOLVED, State.CLOSED)
        or not isinstance(viewer, User)
        or viewer.pk != ticket.user_id
    ):
        return {"show": False}
    survey = Survey.objects.select_related("rating").filter(ticket_id=ticket.pk, requester_id=viewer.pk).first()
    if survey is None:
        return {"show": False}
    rating = getattr(survey, "rating", None)
    state = services.standing(survey, rating)
    if not (state.may_rate or state.may_change):
        return {"show": False}
    return {
        "show": True,
        "state": state,
        "rating": rating,
        "stars": _stars(survey, absolute=False),
        "url": tokens.rate_path(survey),
    }


@register.simple_tag
def satisfaction_mail(ticket: Ticket, recipient: User) -> dict[str, Any]:
    """What the survey mail needs: the language to write in (the recipient's own, else the
    desk's) and a link per star."""
    language = (getattr(recipient, "language", "") or settings.LANGUAGE_CODE).strip()
    if language not in {code for code, _name in settings.LANGUAGES}:
        language = settings.LANGUAGE_CODE
    survey = Survey.objects.filter(ticket_id=ticket.pk).first()
    if survey is None:  # only if the survey was deleted after the mail was queued
        return {"language": language, "stars": [], "url": ""}
    return {"language": language, "stars": _stars(survey, absolute=True), "url": tokens.rate_url(survey)}


@register.inclusion_tag("satisfaction/_agent_ratings.html")
def agent_ratings(agent: Agent | None) -> dict[str, Any]:
    """On an agent's profile: the average of their ratings, how many, and the latest few."""
    if agent is None:
        return {"summary": None}
    return {"summary": selectors.agent_summary(agent)}
