"""Who is calling /api/v1/: the key in `Authorization: Bearer …` or `X-API-Key`.

The request gets `request.api_key` and `request.actor` (the key's agent's user, or None for a
system integration). Scope checks are per operation (`require_scope`); what the actor may see
and do is still the policy's to say, inside the services.
"""

from __future__ import annotations

from ninja.security import APIKeyHeader

from django.http import HttpRequest
from django.utils.translation import gettext as _

from tessera import ratelimit
from tessera.accounts.models import User
from tessera.api import keys
from tessera.api.models import ApiKey
from tessera.api.problems import ApiProblem

REFUSALS = {
    keys.Reason.MISSING: "Send your API key in the Authorization header (Bearer) or in X-API-Key.",
    keys.Reason.UNKNOWN: "This API key is not known.",
    keys.Reason.INACTIVE: "This API key is switched off.",
    keys.Reason.EXPIRED: "This API key has expired.",
    keys.Reason.ADDRESS: "This API key may not be used from your address.",
    keys.Reason.AGENT_DISABLED: "The agent this API key acts for is disabled.",
}


def client_address(request: HttpRequest) -> str:
    """The address a key's allow-list is checked against: the one every limit and lockout
    names, so behind TESSERA_TRUSTED_PROXIES it is the client's, not the proxy's, and never a
    forwarded header the client wrote itself."""
    return ratelimit.client_ip(request)


def presented_key(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("X-API-Key")


class KeyAuth(APIKeyHeader):
    """Refusals are problem documents, never a bare 401. `Authorization: Bearer` works too."""

    param_name = "X-API-Key"

    def __call__(self, request: HttpRequest) -> ApiKey:
        try:
            key = keys.authenticate(presented_key(request), client_address(request))
        except keys.Refused as refused:
            raise ApiProblem(
                "unauthenticated", _(REFUSALS[refused.reason]), headers={"WWW-Authenticate": "Bearer"}
            ) from None
        decision = keys.take_turn(key)
        if not decision.allowed:
            raise ApiProblem(
                "rate-limited",
                _("This key has made too many requests. Try again in %(seconds)d seconds.")
                % {"seconds": decision.retry_after},
                headers={"Retry-After": str(decision.retry_after)},
            )
        request.api_key = key  # type: ignore[attr-defined]
        request.actor = key.agent.user if key.agent is not None else None  # type: ignore[attr-defined]
        return key

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey:  # pragma: no cover - __call__ does it
        return self(request)


def require_scope(request: HttpRequest, scope: str) -> ApiKey:
    key: ApiKey = request.api_key  # type: ignore[attr-defined]
    if not key.has_scope(scope):
        raise ApiProblem("scope", _("This key lacks the “%(scope)s” scope.") % {"scope": scope})
    return key


def require_agent(request: HttpRequest) -> User:
    actor: User | None = request.actor  # type: ignore[attr-defined]
    if actor is None:
        raise ApiProblem(
            "agent-required",
            _("This key is a system integration; only a key that acts as an agent may do this."),
        )
    return actor


def channel_label(request: HttpRequest) -> str:
    key: ApiKey = request.api_key  # type: ignore[attr-defined]
    return _("API key “%(name)s”") % {"name": key.name}
