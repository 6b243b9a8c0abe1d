"""A CAPTCHA-free spam check for any public form: a honeypot field and a minimum time to submit.

People never see the honeypot (visually hidden, hidden from assistive technology, out of the tab
order, no autofill), so anything typed there came from a program filling in every field. The
form also carries a signed stamp of when it was shown; a form sent back sooner than
settings.PORTAL_MIN_SUBMIT_SECONDS is asked to try again, which a person barely notices and a
script posting at once always meets. Either refusal keeps what was typed.

Use: mix `SpamCheckMixin` into the form and include "portal/_spam_check.html" inside the <form>.
Tests: tests/portal/test_public_form_limits.py.
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

HONEYPOT = "website"
STAMP = "started"
_SALT = "tessera.portal.spam"
_STAMP_MAX_AGE = 24 * 3600  # a form left open longer is simply stamped anew

TRY_AGAIN = _("We could not accept the form just yet. Please check your entries and send it again.")


def new_stamp() -> str:
    return signing.dumps(time.time(), salt=_SALT)


def stamp_time(value: str) -> float | None:
    """When the form carrying this stamp was shown, or None if the stamp was altered or is stale."""
    try:
        shown = signing.loads(value or "", salt=_SALT, max_age=_STAMP_MAX_AGE)
    except signing.BadSignature:
        return None
    return float(shown) if isinstance(shown, int | float) else None


def looks_automated(data: Any, *, now: float | None = None) -> bool:
    """Did a program send this? (The honeypot was filled in, or the form came back too fast.)"""
    if str(data.get(HONEYPOT, "")).strip():
        return True
    minimum = settings.PORTAL_MIN_SUBMIT_SECONDS
    if minimum <= 0:
        return False
    shown = stamp_time(str(data.get(STAMP, "")))
    return shown is None or (now or time.time()) - shown < minimum


class SpamCheckMixin(forms.Form):
    """Adds the spam check to a form's clean(); the template includes portal/_spam_check.html."""

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if looks_automated(self.data):
            raise ValidationError(TRY_AGAIN, code="spam")
        return cleaned

    @property
    def spam_stamp(self) -> str:
        """The stamp to send with the form: the one it came back with while that one is sound
        (so waiting a moment and sending again succeeds), else a new one."""
        posted = str(self.data.get(STAMP, "")) if self.is_bound else ""
        return posted if posted and stamp_time(posted) is not None else new_stamp()

    @property
    def honeypot_value(self) -> str:
        return str(self.data.get(HONEYPOT, "")) if self.is_bound else ""
