"""Per-address and per-client limits for the Help Center's public forms (over tessera.ratelimit).

Each counts what is typed and the client address, whether or not an account exists, so a limit
reached tells nobody anything about the address. New tickets have their own wording
(views._intake_limited); the lost-link and password-reset forms use the sign-in lockouts
(accounts.throttle), whose counts an administrator can lift.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import ngettext

from tessera import ratelimit


def refusal(request: HttpRequest, scope: str, email: str, *, per_address: int, per_ip: int) -> str:
    """Why this submission is one too many (empty when it may go ahead); counts it when allowed."""
    for kind, key, limit in (("ip", ratelimit.client_ip(request), per_ip), ("address", email, per_address)):
        decision = ratelimit.hit(f"{scope}-{kind}", key, limit=limit, window=3600)
        if not decision.allowed:
            minutes = max(1, -(-decision.retry_after // 60))
            return ngettext(
                "We have had this request several times in a short while. Please try again in %(minutes)d minute.",
                "We have had this request several times in a short while. Please try again in %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}
    return ""
