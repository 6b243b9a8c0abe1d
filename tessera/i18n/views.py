"""The language picker's target: remember the choice in a cookie and, for a signed-in person, on
their account, so it follows them to every browser and into their mail."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from tessera.accounts import services as account_services
from tessera.accounts.models import User

from .languages import shipped


@require_POST
def choose_language(request: HttpRequest) -> HttpResponse:
    # Django's view checks the language, sets the cookie and redirects only to a `next` on this site.
    response = set_language(request)
    code = request.POST.get("language", "")
    user = request.user
    if code in shipped() and isinstance(user, User) and user.is_authenticated:
        account_services.set_language(user, user, code)
    return response
