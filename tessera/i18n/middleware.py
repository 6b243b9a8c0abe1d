"""Serve each page in the reader's language.

Django's LocaleMiddleware (earlier in the chain) picks the picker's cookie, else the browser's
Accept-Language. It cannot see who is signed in, so this middleware, after AuthenticationMiddleware,
lets a signed-in person's stored choice win. The API is a contract, not a page: its problem
documents and osTicket's answers stay in the desk's default language whatever the caller's
headers say.

A signed-in customer who never chose but acts on the portal (a POST: opening a ticket, replying)
in another shipped language than the desk's is taken at their word: that language is stored, so
the mail their action brings (the acknowledgement, later replies) is written in it too.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from tessera.accounts import services as account_services
from tessera.accounts.models import User

from .languages import chosen_language, shipped

ENGLISH_ONLY_PREFIXES = ("/api/",)
# Where a signed-in person is not acting as a customer, or not on a page in their language.
NOT_THE_PORTAL = ("/api/", "/staff/", "/admin/", "/account/", "/language/")


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self.language_for(request)
        if language is not None:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        elif request.method == "POST":
            self.remember_portal_language(request)
        response = self.get_response(request)
        # The language cookie and the session (a signed-in person's choice) both change the page:
        # a shared cache must not hand one reader's language to another (Accept-Language is
        # added by LocaleMiddleware).
        patch_vary_headers(response, ("Cookie",))
        return response

    @staticmethod
    def remember_portal_language(request: HttpRequest) -> None:
        user = request.user
        if not isinstance(user, User) or not user.is_authenticated or user.language:
            return
        if request.path_info.startswith(NOT_THE_PORTAL) or user.agent_or_none is not None:
            return
        page_language = translation.get_language()
        if page_language in shipped() and page_language != settings.LANGUAGE_CODE:
            account_services.set_language(user, user, page_language)

    @staticmethod
    def language_for(request: HttpRequest) -> str | None:
        if request.path_info.startswith(ENGLISH_ONLY_PREFIXES):
            return settings.LANGUAGE_CODE
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return chosen_language(user)
        return None
