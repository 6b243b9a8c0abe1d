"""CSV files the desk hands out (the audit log, the people directory): cells a spreadsheet would
read as a formula are defused, and the rows are written one line at a time for streaming.

OWASP's advice for CSV injection: a cell that starts with = + - @ (or a tab or carriage return,
which some spreadsheets skip before reading the formula) gets an apostrophe in front, so the
spreadsheet shows it as text instead of running it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The value as text, with an apostrophe in front when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file that hands back what is written to it: csv.writer then returns each line."""

    def write(self, value: str) -> str:
        return value


def lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text, one line at a time, every cell made safe; starts with a byte-order mark so
    spreadsheets read it as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])
