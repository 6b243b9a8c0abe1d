"""What other apps add to the demo desk (`manage.py seed_demo`), without the core importing them.

An app registers a function from its AppConfig.ready(); seed_demo calls each, in the order
registered, inside its transaction once the people, departments and sample tickets exist.
"""

from __future__ import annotations

from collections.abc import Callable

# extra(write): `write` prints a progress line.
DemoExtra = Callable[[Callable[[str], None]], None]

_extras: list[DemoExtra] = []


def register(extra: DemoExtra) -> None:
    if extra not in _extras:
        _extras.append(extra)


def run_extras(write: Callable[[str], None]) -> None:
    for extra in _extras:
        extra(write)
