"""The REST API under /api/v1/: one NinjaAPI, its error handlers, and the routers that make it.

Each router module is an adapter like the staff views: it parses with typed schemas, checks the
key's scope, and calls the same services (and so the same policy) as the workspace.
"""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from tessera.api.auth import KeyAuth
from tessera.api.models import ApiKey
from tessera.api.problems import (
    COMMON,
    ApiProblem,
    ProblemsAPI,
    from_django_validation,
    respond,
)

api = ProblemsAPI(
    title="Tessera API",
    version="1",
    description=_("The help desk's REST API. Every change goes through the same rules as the workspace."),
    urls_namespace="api-v1",
    auth=KeyAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _problem(request: HttpRequest, kind: str, detail: str, errors: list[tuple[str, str]] | None = None) -> HttpResponse:
    return respond(request, ApiProblem(kind, detail, errors=errors))


@api.exception_handler(ApiProblem)
def _on_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
    return respond(request, exc)


@api.exception_handler(NinjaValidationError)
def _on_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        location = [
            str(part)
            for part in error.get("loc", ())
            if part not in ("body", "payload", "query", "path", "form", "file")
        ]
        errors.append((".".join(location), str(error.get("msg", ""))))
    detail = errors[0][1] if len(errors) == 1 else _("The request has %(count)d problems.") % {"count": len(errors)}
    return _problem(request, "validation", detail, errors)


@api.exception_handler(ValidationError)
def _on_service_refusal(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return respond(request, from_django_validation(exc))


@api.exception_handler(RequestDataTooBig)
def _on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _problem(request, "too-large", _("The request body is too large; send large files as multipart uploads."))


@api.exception_handler(PermissionDenied)
def _on_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _problem(request, "forbidden", str(exc) or _("You may not do this."))


@api.exception_handler(Http404)
def _on_missing(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _problem(request, "not-found", _("There is nothing here, or you may not see it."))


@api.exception_handler(AuthenticationError)
def _on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _problem(request, "unauthenticated", _("Send your API key."))


@api.exception_handler(HttpError)
def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    kind = {400: "bad-request", 413: "too-large", 415: "unsupported-media-type"}.get(exc.status_code, "bad-request")
    return _problem(request, kind, str(exc))


class KeyOut(Schema):
    name: str
    scopes: list[str]
    agent: str | None
    expires_at: datetime | None


@api.get("/me", response={200: KeyOut, **COMMON}, summary="The key you are calling with", tags=["keys"])
def me(request: HttpRequest) -> KeyOut:
    key: ApiKey = request.api_key  # type: ignore[attr-defined]
    return KeyOut(
        name=key.name,
        scopes=list(key.scopes),
        agent=key.agent.user.email if key.agent is not None else None,
        expires_at=key.expires_at,
    )


# The routers, each an adapter module of its own, named by path so they are imported after `api`.
api.add_router("/tickets", "tessera.api.tickets.router")
api.add_router("", "tessera.api.directory.router")
api.add_router("", "tessera.api.custom_fields.router")
api.add_router("/kb", "tessera.kb.api.router")
