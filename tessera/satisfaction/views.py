"""The rating page behind the link in the survey mail and the portal's prompt.

GET never records anything: mail scanners and link previews follow every link in a message, so
a star in the mail opens this page with that star chosen, and the person confirms with POST.
The token is the key (no sign-in needed); someone signed in as anybody but the requester is told
the page does not exist, as for another person's ticket.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tessera.tickets.access_links import access_url
from tessera.tickets.services.satisfaction import RATED_STATES

from . import services, tokens
from .forms import SCORE_WORDS, RatingForm
from .models import MAX_SCORE, MIN_SCORE, Survey


def _not_found(request: HttpRequest) -> HttpResponse:
    what = _("This rating link does not work. Use the link from your email, or open the ticket from My tickets.")
    return render(request, "portal/not_found.html", {"what": what}, status=404)


def _chosen(request: HttpRequest) -> int | None:
    """The star a mail link chose (?score=4); anything else chooses nothing."""
    raw = request.GET.get("score", "")
    return int(raw) if raw.isdecimal() and MIN_SCORE <= int(raw) <= MAX_SCORE else None


@never_cache
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    survey = tokens.survey_for(token)
    if survey is None or (request.user.is_authenticated and request.user.pk != survey.requester_id):
        return _not_found(request)
    if request.method == "POST":
        form = RatingForm(request.POST)
        if form.is_valid():
            try:
                services.rate(
                    survey.requester, survey, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
                )
            except PermissionDenied as exc:
                return _page(request, survey, form, refused=str(exc), status=403)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Thank you for rating the help you got."))
                return redirect(request.path)
        return _page(request, survey, form, status=400)
    rating = services.rating_of(survey)
    initial = {
        "score": _chosen(request) or (rating.score if rating else None),
        "comment": rating.comment if rating else "",
    }
    return _page(request, survey, RatingForm(initial=initial))


def _page(
    request: HttpRequest,
    survey: Survey,
    form: RatingForm,
    *,
    refused: str = "",
    status: int = 200,
) -> HttpResponse:
    rating = services.rating_of(survey)  # read again: a refused POST may follow a rating made meanwhile
    state = services.standing(survey, rating)
    context = {
        "survey": survey,
        "ticket": survey.ticket,
        "rating": rating,
        "state": state,
        "reopened": survey.ticket.state not in RATED_STATES,
        "form": form,
        "refused": refused,
        "stars": [(n, SCORE_WORDS[n]) for n in range(MIN_SCORE, MAX_SCORE + 1)],
        "ticket_url": access_url(survey.ticket, survey.requester),
    }
    return render(request, "satisfaction/rate.html", context, status=status)
