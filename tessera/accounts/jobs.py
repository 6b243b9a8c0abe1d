"""The accounts app's periodic job (registered from AccountsConfig.ready()): forget sign-in
counts that no longer refuse anything, as `manage.py lockouts --prune` does by hand."""

from __future__ import annotations

from datetime import datetime

from . import throttle


def prune_lockouts(now: datetime | None = None) -> int:
    return throttle.prune()
