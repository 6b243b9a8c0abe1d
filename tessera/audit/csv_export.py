"""CSV export of the audit log. Cells a spreadsheet would read as a formula are defused."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from django.utils.translation import gettext as _

from tessera import csv_cells
from tessera.csv_cells import safe_cell

from .models import AuditEntry

__all__ = ["header", "lines", "row", "safe_cell"]


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
    return csv_cells.lines(header(), (row(entry) for entry in entries))
