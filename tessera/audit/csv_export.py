"""CSV export of the audit log. Cells a spreadsheet would read as a formula are defused."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from django.utils.translation import gettext as _

from .models import AuditEntry

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The value as text, with an apostrophe in front when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def header() -> list[str]:
    return [
        _("Time (UTC)"),
        _("Actor"),
        _("Address"),
        _("Action"),
        _("Object type"),
        _("Object id"),
        _("Object"),
        _("Before"),
        _("After"),
        _("Detail"),
    ]


def row(entry: AuditEntry) -> list[str]:
    return [
        safe_cell(cell)
        for cell in (
            entry.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            entry.actor_label,
            entry.ip_address or "",
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.object_repr,
            _json(entry.before),
            _json(entry.after),
            entry.detail,
        )
    ]


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    """The CSV text, one line at a time (streamed: the log can be long)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header())  # the BOM makes spreadsheets read UTF-8
    for entry in entries:
        yield writer.writerow(row(entry))
