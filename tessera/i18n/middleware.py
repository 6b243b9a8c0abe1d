"""Serve each page in the reader's language.

Django's LocaleMiddleware (earlier in the chain) picks the picker's cookie, else the browser's
Accept-Language. It cannot see who is signed in, so this middleware, after AuthenticationMiddleware,
lets a signed-in person's stored choice win. The API is a contract, not a page: its problem
documents and osTicket's answers stay in the desk's default language whatever the caller's
headers say.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from .languages import chosen_language

ENGLISH_ONLY_PREFIXES = ("/api/",)


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self.language_for(request)
        if language is not None:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        # The language cookie and the session (a signed-in person's choice) both change the page:
        # a shared cache must not hand one reader's language to another (Accept-Language is
        # added by LocaleMiddleware).
        patch_vary_headers(response, ("Cookie",))
        return response

    @staticmethod
    def language_for(request: HttpRequest) -> str | None:
        if request.path_info.startswith(ENGLISH_ONLY_PREFIXES):
            return settings.LANGUAGE_CODE
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return chosen_language(user)
        return None
