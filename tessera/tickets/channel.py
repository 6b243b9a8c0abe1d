"""Which way in a change came through, when it is not the person's own session.

An adapter that acts for someone else (an API key) wraps its call in `acting_via(label)`; every
timeline Event written meanwhile records the label (`data["via"]`), so the ticket says "by Jane,
through the API key “Monitoring”" and not just "by Jane". A context variable keeps the services'
signatures unchanged and is private to the thread or task that set it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_via: ContextVar[str] = ContextVar("tessera_via", default="")


@contextmanager
def acting_via(label: str) -> Iterator[None]:
    token = _via.set(label[:150])
    try:
        yield
    finally:
        _via.reset(token)


def current() -> str:
    return _via.get()
