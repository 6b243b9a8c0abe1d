"""The account of a run: for every source table, how many rows were imported, updated, left
as they were, or not imported and why. "Nothing lost" is checked from this alone: the four
numbers of a table add up to its row count in the source."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone

IMPORTED = "imported"
UPDATED = "updated"
UNCHANGED = "unchanged"
NOT_IMPORTED = "not imported"
OUTCOMES = (IMPORTED, UPDATED, UNCHANGED, NOT_IMPORTED)
SHOWN_NOTES = 10  # per table on screen; the file has them all


@dataclass
class TableReport:
    table: str
    source_rows: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)  # why rows were not imported
    notes: list[str] = field(default_factory=list)  # imported, but with something to know

    @property
    def accounted(self) -> int:
        return sum(self.counts[o] for o in OUTCOMES)


class Report:
    def __init__(self, *, dry_run: bool = False) -> None:
        self.tables: dict[str, TableReport] = {}
        self.dry_run = dry_run
        self.started = timezone.now()
        self.details: defaultdict[str, list[str]] = defaultdict(list)

    def table(self, name: str) -> TableReport:
        if name not in self.tables:
            self.tables[name] = TableReport(name)
        return self.tables[name]

    def expect(self, table: str, source_rows: int) -> None:
        self.table(table).source_rows = source_rows

    def count(self, table: str, outcome: str, n: int = 1) -> None:
        self.table(table).counts[outcome] += n

    def skip(self, table: str, source_id: Any, reason: str) -> None:
        """A row not imported; the reason is counted, the row named in the file."""
        report = self.table(table)
        report.counts[NOT_IMPORTED] += 1
        report.reasons[reason] += 1
        self.details[table].append(f"{table}#{source_id}: not imported: {reason}")

    def skip_all(self, table: str, n: int, reason: str) -> None:
        if n <= 0:
            self.table(table)
            return
        report = self.table(table)
        report.counts[NOT_IMPORTED] += n
        report.reasons[reason] += n

    def folded(self, table: str, n: int, owner: str) -> None:
        """Rows that come over inside their owner's rows (a user's addresses, an entry's files):
        imported when any owner row was written this run, else unchanged."""
        written = self.table(owner).counts[IMPORTED] + self.table(owner).counts[UPDATED]
        self.count(table, IMPORTED if written else UNCHANGED, n)

    def note(self, table: str, source_id: Any, text: str) -> None:
        self.table(table).notes.append(f"{table}#{source_id}: {text}")

    def problems(self) -> list[str]:
        """Tables whose rows are not all accounted for (should never happen)."""
        return [
            f"{t.table}: {t.source_rows} in the source, {t.accounted} accounted for"
            for t in self.tables.values()
            if t.accounted != t.source_rows
        ]

    def render(self, *, full: bool) -> str:
        lines = [
            "osTicket import report" + (" (dry run: nothing was written)" if self.dry_run else ""),
            f"started {self.started.isoformat(timespec='seconds')}, finished "
            f"{timezone.now().isoformat(timespec='seconds')}",
            "",
            f"{'table':<24}{'source':>9}{'imported':>10}{'updated':>9}{'unchanged':>11}{'not imported':>14}",
        ]
        for t in self.tables.values():
            c = t.counts
            lines.append(
                f"{t.table:<24}{t.source_rows:>9}{c[IMPORTED]:>10}{c[UPDATED]:>9}{c[UNCHANGED]:>11}{c[NOT_IMPORTED]:>14}"
            )
        for t in self.tables.values():
            if not t.reasons and not t.notes:
                continue
            lines += ["", f"{t.table}:"]
            lines += [f"  not imported, {n}: {reason}" for reason, n in t.reasons.most_common()]
            notes = t.notes if full else t.notes[:SHOWN_NOTES]
            lines += [f"  note: {n}" for n in notes]
            if len(t.notes) > len(notes):
                lines.append(f"  … and {len(t.notes) - len(notes)} more notes in the report file")
            if full:
                lines += [f"  {d}" for d in self.details.get(t.table, [])]
        problems = self.problems()
        lines += ["", "Every source row is accounted for." if not problems else "NOT ACCOUNTED FOR:", *problems]
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "tables": {
                t.table: {
                    "source": t.source_rows,
                    **{o: t.counts[o] for o in OUTCOMES},
                    "reasons": dict(t.reasons),
                    "notes": t.notes,
                    "rows_not_imported": self.details.get(t.table, []),
                }
                for t in self.tables.values()
            },
        }

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
        path = folder / f"osticket-import-{stamp}.txt"
        path.write_text(self.render(full=True), encoding="utf-8")
        path.with_suffix(".json").write_text(json.dumps(self.as_dict(), indent=1), encoding="utf-8")
        return path
