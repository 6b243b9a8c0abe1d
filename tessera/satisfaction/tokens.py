"""The rating link: a signed token that lets the requester rate without signing in.

The token names the survey and its ticket and is signed with the site's secret (a salt of its
own, so no other signed value of the desk passes as one). It is made again whenever a mail or
page needs it, so nothing secret is stored; a tampered token, or one whose survey does not belong
to the ticket it names, finds nothing. How long it works is the survey's business (ASK_DAYS),
not the token's, so a mail retried a day later carries a link as good as the first one.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Survey

SALT = "tessera.satisfaction.rate"


def token_for(survey: Survey) -> str:
    return signing.dumps({"s": survey.pk, "t": survey.ticket_id}, salt=SALT, compress=False)


def survey_for(token: str) -> Survey | None:
    """The survey a token names, or None when the token was altered or names a mismatch."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int) or not isinstance(payload.get("t"), int):
        return None
    return (
        Survey.objects.select_related("ticket", "ticket__status", "requester", "department")
        .filter(pk=payload["s"], ticket_id=payload["t"])
        .first()
    )


def rate_path(survey: Survey, score: int | None = None) -> str:
    path = reverse("satisfaction:rate", args=[token_for(survey)])
    return f"{path}?score={score}" if score else path


def rate_url(survey: Survey, score: int | None = None) -> str:
    base: str = settings.TESSERA["BASE_URL"].rstrip("/")
    return base + rate_path(survey, score)
