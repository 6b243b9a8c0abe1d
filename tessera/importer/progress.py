"""One progress line per phase on standard error (count, total, rate), at most once a second,
in the words `manage.py sla_fill_warnings` uses; standard output stays for the report."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, phase: str, total: int, stream: TextIO | None = None) -> None:
        self.phase = phase
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.shown = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.shown >= 1.0 and self.done < self.total:
            self.shown = now
            self._show(now)

    def finish(self) -> None:
        self._show(time.monotonic(), end=True)

    def _show(self, now: float, end: bool = False) -> None:
        elapsed = max(now - self.started, 1e-6)
        rate = self.done / elapsed
        line = f"{self.phase}: {self.done:,} / {self.total:,} rows ({rate:,.0f}/s, {elapsed:.0f} s)"
        self.stream.write(
            ("\r" if self.stream.isatty() else "") + line + ("\n" if end or not self.stream.isatty() else "")
        )
        self.stream.flush()
