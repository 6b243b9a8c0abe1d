"""Errors as RFC 9457 problem details, one stable `type` URI per kind of error.

Clients branch on `type`; `title` is its fixed English name; `detail` says what happened this
time, in the desk's language; `errors` (validation only) names each field and why.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI, Schema
from ninja.openapi.schema import OpenAPISchema

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views import defaults

TYPE_BASE = "https://tessera.invalid/problems/"  # a name, not a page: stable and never fetched

MEDIA_TYPE = "application/problem+json"


class FieldError(Schema):
    field: str
    message: str


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


KINDS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "Bad request"),
    "unauthenticated": (401, "Not authenticated"),
    "forbidden": (403, "Forbidden"),
    "scope": (403, "Scope missing"),
    "agent-required": (403, "An agent key is needed"),
    "not-found": (404, "Not found"),
    "conflict": (409, "Conflict"),
    "precondition-failed": (412, "Precondition failed"),
    "too-large": (413, "Content too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "validation": (422, "Validation failed"),
    "rate-limited": (429, "Too many requests"),
}


class ApiProblem(Exception):
    """Raise anywhere under /api/v1/ to answer with a problem document."""

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        errors: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def document(kind: str, detail: str, errors: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    status, title = KINDS[kind]
    body: dict[str, Any] = {"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = [{"field": f, "message": m} for f, m in errors]
    return body


def respond(request: HttpRequest, problem: ApiProblem) -> HttpResponse:
    # local import: the NinjaAPI instance is built from this module's handlers
    from tessera.api.v1 import api

    body = document(problem.kind, problem.detail, problem.errors)
    response = api.create_response(request, body, status=body["status"])
    response["Content-Type"] = MEDIA_TYPE
    for name, value in problem.headers.items():
        response[name] = value
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's own 400 (handler400): a request refused before any view, such as a Host header
    that is no host name. Under /api/v1/ it is a problem document like every answer there (a
    client parses what the OpenAPI document promised); elsewhere the site's page."""
    if request.path.startswith("/api/v1/"):
        return respond(request, ApiProblem("bad-request", _("The request is malformed: check its Host header.")))
    return defaults.bad_request(request, exception)


def from_django_validation(error: Any) -> ApiProblem:
    """A service's ValidationError as a 422 naming each field."""
    errors: list[tuple[str, str]] = []
    if hasattr(error, "message_dict"):
        for field, messages in error.message_dict.items():
            errors.extend((field if field != "__all__" else "", str(m)) for m in messages)
    else:
        errors.extend(("", str(m)) for m in error.messages)
    detail = errors[0][1] if len(errors) == 1 else _("The request has %(count)d problems.") % {"count": len(errors)}
    return ApiProblem("validation", detail, errors=errors)


# What every operation may answer besides its success, for the OpenAPI document.
COMMON = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}


class ProblemsAPI(NinjaAPI):
    """A NinjaAPI whose OpenAPI document says what the problem answers really are: ninja
    documents every response as application/json, but problems go out as
    application/problem+json, and a client (or schemathesis) checks the type it was promised."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for answer in operation.get("responses", {}).values():
                    content = answer.get("content", {})
                    body = content.get("application/json")
                    if body is not None and str(body.get("schema", {}).get("$ref", "")).endswith("/Problem"):
                        content[MEDIA_TYPE] = content.pop("application/json")
        return schema
