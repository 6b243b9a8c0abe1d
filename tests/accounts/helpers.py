"""Computing codes the way a phone's authenticator app does, from the secret the page shows."""

from __future__ import annotations

import base64
import re
import time

from django_otp.oath import TOTP


def secret_on_page(html: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert match, "no secret key on the page"
    return match.group(1)


def app_code(secret: str, steps_ahead: int = 0) -> str:
    """The code an app shows now (or `steps_ahead` 30-second steps later: a code the server has
    not seen yet, within the clock drift it allows)."""
    raw = secret.replace(" ", "")
    key = base64.b32decode(raw + "=" * (-len(raw) % 8))
    totp = TOTP(key)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"
