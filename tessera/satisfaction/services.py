"""Recording a rating: the only writer of Rating rows.

The requester rates once and may change their rating for CHANGE_DAYS after giving it; the survey
link works for ASK_DAYS after the ask. The timeline Event comes from the ticket core's service
(tickets/services/satisfaction.py) in the same transaction, so a rating and its line on the
timeline exist together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.tickets import services as ticket_services

from .models import MAX_COMMENT, MAX_SCORE, MIN_SCORE, Rating, Survey

ASK_DAYS = 30  # how long the link in the mail, and the portal's prompt, may be used to rate
CHANGE_DAYS = 7  # how long after rating the requester may change their mind


@dataclass(frozen=True)
class Standing:
    """Where a survey stands for its requester right now."""

    rating: Rating | None
    may_rate: bool  # not rated yet, and the ask is still fresh
    may_change: bool  # rated, and still inside the change window
    expired: bool  # never rated and the ask is too old


def standing(survey: Survey, rating: Rating | None, now: datetime | None = None) -> Standing:
    now = now or timezone.now()
    if rating is None:
        fresh = now <= survey.asked_at + timedelta(days=ASK_DAYS)
        return Standing(None, may_rate=fresh, may_change=False, expired=not fresh)
    return Standing(
        rating, may_rate=False, may_change=now <= rating.rated_at + timedelta(days=CHANGE_DAYS), expired=False
    )


def rating_of(survey: Survey) -> Rating | None:
    return Rating.objects.filter(survey_id=survey.pk).first()


def _clean(score: object, comment: str) -> tuple[int, str]:
    try:
        value = int(str(score))
    except ValueError:
        raise ValidationError({"score": _("Choose from 1 to 5 stars.")}) from None
    if not MIN_SCORE <= value <= MAX_SCORE:
        raise ValidationError({"score": _("Choose from 1 to 5 stars.")})
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError(
            {
                "comment": _("This is %(n)d characters long; the limit is %(limit)d.")
                % {"n": len(comment), "limit": MAX_COMMENT}
            }
        )
    return value, comment


def rate(requester: User, survey: Survey, *, score: object, comment: str = "") -> Rating:
    """`requester` rates the help on `survey`'s ticket, or changes their rating while they may.

    Refuses anyone but the ticket's requester (PermissionDenied), a score outside 1-5 or a long
    comment (ValidationError), a rating after the ask expired or a change after CHANGE_DAYS
    (PermissionDenied). The ticket's status, version and updated_at are left alone."""
    value, comment = _clean(score, comment)
    if survey.requester_id != requester.pk:
        raise PermissionDenied(_("Only the person who asked for help can rate it."))
    now = timezone.now()
    with transaction.atomic():
        locked = Survey.objects.select_for_update().select_related("ticket").get(pk=survey.pk)
        rating = Rating.objects.filter(survey_id=locked.pk).first()
        state = standing(locked, rating, now)
        if rating is None and not state.may_rate:
            raise PermissionDenied(
                _("This survey has closed: it was sent more than %(days)d days ago.") % {"days": ASK_DAYS}
            )
        if rating is not None and not state.may_change:
            raise PermissionDenied(_("Your rating can no longer be changed."))
        before = rating.score if rating is not None else None
        if rating is not None and rating.score == value and rating.comment == comment:
            return rating  # the same answer twice (a double click): nothing new to record
        ticket_services.record_satisfaction(requester, locked.ticket, score=value, comment=comment, before=before)
        if rating is None:
            rating = Rating.objects.create(
                survey=locked,
                ticket=locked.ticket,
                agent_id=locked.agent_id,
                department_id=locked.department_id,
                score=value,
                comment=comment,
                rated_at=now,
            )
        else:
            rating.score, rating.comment, rating.changed_at = value, comment, now
            rating.save(update_fields=["score", "comment", "changed_at"])
    return rating
