"""The ingest benchmark still runs, and every message in its corpus still ends as its kind
should (a ticket, a reply, an event, or kept), both called in-process and over LMTP.

Run as the operator runs it, in its own process against its own SQLite file: it reads its
settings from the environment, which the test process has already used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DATABASE_URL"))}
    env["TESSERA_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "bench.ingest", "--database-url", f"sqlite:///{tmp_path / 'bench.sqlite3'}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "mode",
    [
        ["--tasks", "immediate"],
        ["--tasks", "database", "--via", "lmtp", "--workers", "2"],
    ],
    ids=["in-process", "over-lmtp"],
)
def test_every_message_of_the_benchmark_corpus_ends_as_its_kind_should(tmp_path, mode, migrated_sqlite):
    shutil.copyfile(migrated_sqlite, tmp_path / "bench.sqlite3")  # migrated already, as a desk is
    done = bench(tmp_path, "--messages", "40", *mode)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PROBLEM" not in done.stdout
    assert "overall: 40 messages" in done.stdout
