"""Signals about sign-in security that other parts (the audit log) record.

Django's own `user_logged_in` and `user_login_failed` cover successful and failed sign-ins;
these cover what Django has no signal for.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent once when an account or a client address becomes locked out (not on every refused try).
# sender: tessera.accounts.models.Throttle
# request: the HttpRequest that tipped it over, or None
# scope: "sign-in", "password-reset" or "status-lookup" (Throttle.Scope)
# kind: "account" (key is the lower-cased email address typed) or "address" (key is the client IP)
# key: str; until: aware UTC datetime when the lockout ends
locked_out = Signal()

# Sent when an administrator lifts lockouts.
# sender: Throttle; actor: the User who lifted them, or None from the command line;
# lifted: list of (scope, kind, key) tuples that were locked
lockout_lifted = Signal()
