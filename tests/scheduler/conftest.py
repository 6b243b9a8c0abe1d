"""Desks in real processes: a file-based SQLite database migrated once per session (copied for
each test), or, when the suite runs on PostgreSQL, the test database itself; and a way to start
`manage.py` against either, as an operator would."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tessera.scheduler import registry

REPO = Path(__file__).resolve().parents[2]
PYTHON = str(REPO / ".venv" / "bin" / "python")
MANAGE = str(REPO / "manage.py")
REDIS_URL = "redis://127.0.0.1:6379/5"  # the scheduler tests' own Redis database


def _base_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "TASKS_BACKEND", "EMAIL_URL", "TESSERA_BASE_URL") and not k.startswith("PYTEST")
    }
    env.update(
        DATABASE_URL=database_url,
        TESSERA_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="tests.scheduler.proc_settings",
        PYTHONPATH=str(REPO),
        TASKS_REDIS_URL=REDIS_URL,
    )
    return env


@dataclass
class ProcessDesk:
    """A database that processes started by the test share."""

    database_url: str
    data_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        return {**_base_env(self.database_url, self.data_dir), **self.extra_env, **extra}

    def manage(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [PYTHON, MANAGE, *args], cwd=REPO, env=self.env(**extra), capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def start(self, *args: str, log: Path, **extra: str) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(
                [PYTHON, MANAGE, *args], cwd=REPO, env=self.env(**extra), stdout=out, stderr=subprocess.STDOUT
            )

    def python(self, code: str, **extra: str) -> str:
        """Run Python code in a desk process (manage.py shell) and return what it printed."""
        return self.manage("shell", "--no-imports", "-v", "0", "-c", code, **extra).stdout.strip()


@pytest.fixture(params=["sqlite", "postgresql"])
def process_desk(request, tmp_path) -> ProcessDesk:
    """A desk database shared by this test and the processes it starts, on each engine."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if request.param == "sqlite":
        path = tmp_path / "desk.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return ProcessDesk(f"sqlite:///{path}", data_dir)
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: runs when the suite does (DATABASE_URL=postgres://…; CI's PostgreSQL half)")
    request.getfixturevalue("transactional_db")  # committed rows: the other processes see them
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    if s.get("PASSWORD"):
        url = f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return ProcessDesk(url, data_dir)


@pytest.fixture
def jobs():
    """Register test jobs for one test; the desk's own jobs stay registered but are not selected."""
    added: list[str] = []

    def add(name: str, *, every, func) -> str:
        registry.register(name, every=every, func=func)
        added.append(name)
        return name

    yield add
    for name in added:
        registry.unregister(name)
