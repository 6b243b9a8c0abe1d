"""The loop every phase is made of: read a batch of source rows, compare each with what the id
map remembers, create or update what changed, and commit the batch together with its id-map
rows. A run killed at any point has committed whole batches only, and the next run skips them
as unchanged."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DatabaseError, transaction

from .models import IdMap
from .progress import Progress
from .report import IMPORTED, UNCHANGED, UPDATED, Report
from .source import Row, Source


class Skip(Exception):
    """A source row that cannot come over; its message is the reason in the report."""


def fingerprint(*parts: Any) -> str:
    blob = json.dumps(parts, default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(blob.encode(), usedforsecurity=False).hexdigest()


@dataclass
class Context:
    """What every phase needs: the source, the report, and the run's options."""

    source: Source
    report: Report
    files_dir: Path | None = None
    since: Any = None
    progress_stream: Any = None
    # Source ids → Tessera ids of the small tables, filled as their phases run.
    maps: dict[str, dict[int, int]] = field(default_factory=dict)
    # A test hook: stop the process after this many committed batches (the kill -9 test).
    after_batch: Callable[[], None] | None = None

    def map(self, table: str) -> dict[int, int]:
        """The whole id map of a small table (departments, roles, statuses…)."""
        if table not in self.maps:
            self.maps[table] = dict(
                IdMap.objects.filter(source_table=table).values_list("source_id", "target_id").iterator()
            )
        return self.maps[table]

    def lookup(self, table: str, ids: Iterable[int]) -> dict[int, int]:
        """Source id → Tessera id for a batch's worth of a large table (users, tickets)."""
        wanted = {int(i) for i in ids if i}
        if table in self.maps:
            return {i: self.maps[table][i] for i in wanted if i in self.maps[table]}
        found: dict[int, int] = {}
        listed = sorted(wanted)
        for start in range(0, len(listed), 900):
            chunk = listed[start : start + 900]
            found.update(
                IdMap.objects.filter(source_table=table, source_id__in=chunk).values_list("source_id", "target_id")
            )
        return found


Create = Callable[[Row], int]
Update = Callable[[Row, int], None]


CreateMany = Callable[[list[Row]], list["int | Skip"]]


def sync(
    ctx: Context,
    table: str,
    batches: Iterator[list[Row]],
    *,
    pk: str,
    total: int,
    create: Create,
    update: Update | None = None,
    prepare: Callable[[list[Row]], None] | None = None,
    digest: Callable[[Row], str] | None = None,
    after: Callable[[list[int]], None] | None = None,
    create_many: CreateMany | None = None,
) -> None:
    """Bring `table` over. `prepare(batch)` may read related rows for the whole batch first;
    `digest(row)` is the row's fingerprint (by default its columns); `after(ids)` runs in the
    batch's transaction once its rows are written (the search index).

    New rows go through `create_many(rows)` when given (a few bulk statements for the whole
    batch; it answers a Tessera id or a Skip per row, in order), else `create(row)` one by one.
    If the bulk write fails, the batch falls back to `create` row by row. A row whose create or
    update raises Skip is reported and left out; its savepoint keeps the batch intact."""
    report = ctx.report
    report.expect(table, total)
    progress = Progress(table, total, ctx.progress_stream)
    known_map = ctx.maps.get(table)
    for batch in batches:
        with transaction.atomic():
            if prepare is not None:
                prepare(batch)
            ids = [int(row[pk]) for row in batch]
            known = {m.source_id: m for m in IdMap.objects.filter(source_table=table, source_id__in=ids)}
            new_maps: list[IdMap] = []
            changed: list[IdMap] = []
            touched: list[int] = []
            fresh: list[tuple[Row, str]] = []
            for row in batch:
                source_id = int(row[pk])
                mark = digest(row) if digest else fingerprint(row)
                existing = known.get(source_id)
                if existing is None:
                    fresh.append((row, mark))
                elif existing.fingerprint == mark:
                    report.count(table, UNCHANGED)
                else:
                    try:
                        with transaction.atomic():
                            if update is not None:
                                update(row, existing.target_id)
                    except Skip as why:
                        report.skip(table, source_id, str(why))
                        continue
                    existing.fingerprint = mark
                    changed.append(existing)
                    touched.append(existing.target_id)
                    report.count(table, UPDATED)
            for (row, mark), outcome in zip(fresh, _create_all(fresh, create, create_many), strict=True):
                source_id = int(row[pk])
                if isinstance(outcome, Skip):
                    report.skip(table, source_id, str(outcome))
                    continue
                new_maps.append(IdMap(source_table=table, source_id=source_id, target_id=outcome, fingerprint=mark))
                if known_map is not None:
                    known_map[source_id] = outcome
                touched.append(outcome)
                report.count(table, IMPORTED)
            IdMap.objects.bulk_create(new_maps)
            IdMap.objects.bulk_update(changed, ["fingerprint"])
            if after is not None and touched:
                after(touched)
        progress.advance(len(batch))
        if ctx.after_batch is not None:
            ctx.after_batch()
    progress.finish()


def _create_all(fresh: list[tuple[Row, str]], create: Create, create_many: CreateMany | None) -> list[int | Skip]:
    rows = [row for row, _mark in fresh]
    if create_many is not None and rows:
        try:
            with transaction.atomic():
                return create_many(rows)
        except DatabaseError:
            pass  # one row the bulk statement refused: find it by going row by row
    outcomes: list[int | Skip] = []
    for row in rows:
        try:
            with transaction.atomic():
                outcomes.append(create(row))
        except Skip as why:
            outcomes.append(why)
    return outcomes
