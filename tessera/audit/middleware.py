from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import services


class AuditContextMiddleware:
    """Audit records written while a request is handled carry the client's address, even when
    the writer (a service) was not handed the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with services.request_context(request):
            return self.get_response(request)
