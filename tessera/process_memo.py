"""A few rows that a long-running process reads at most every few seconds.

Why: mail ingest needs the same handful of rows for every message it takes in: the desk's own
addresses, the ban list, which department an address belongs to, the default status and
priority of a new ticket. In an LMTP or IMAP worker taking a hundred messages a second those
reads were a fifth of all queries, and their answer almost never changes.

So each value here is read again at most every SECONDS per process, and forgotten at once
when this process saves or deletes a row of a model it was read from. A change made in
another process (an administrator in a web worker) takes effect within SECONDS. Use it only
for small tables where that delay is harmless; everything else reads the database.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db.models.signals import post_delete, post_save

SECONDS = 30.0
_memos: list[Memo[object]] = []


class Memo[T]:
    def __init__(self, load: Callable[[], T], models: tuple[str, ...], seconds: float) -> None:
        self._load = load
        self._seconds = seconds
        self._value: tuple[float, T] | None = None
        self.__doc__ = load.__doc__
        for model in models:  # "app_label.ModelName": resolved once the model is loaded
            uid = f"process-memo-{load.__module__}.{load.__qualname__}-{model}"
            post_save.connect(self._forget_on_change, sender=model, weak=False, dispatch_uid=uid)
            post_delete.connect(self._forget_on_change, sender=model, weak=False, dispatch_uid=f"{uid}-deleted")
        _memos.append(self)

    def __call__(self) -> T:
        now = time.monotonic()
        held = self._value
        if held is not None and now - held[0] < self._seconds:
            return held[1]
        value = self._load()
        self._value = (now, value)
        return value

    def forget(self) -> None:
        """Read the value again on the next call."""
        self._value = None

    def _forget_on_change(self, **kwargs: object) -> None:
        self.forget()


def memo[T](*models: str, seconds: float = SECONDS) -> Callable[[Callable[[], T]], Memo[T]]:
    """Decorate a function of no arguments that reads rows of `models` ("app_label.Model")."""

    def wrap(load: Callable[[], T]) -> Memo[T]:
        return Memo(load, models, seconds)

    return wrap


def forget_all() -> None:
    """Forget every value (tests: rolled-back rows send no signals)."""
    for held in _memos:
        held.forget()
