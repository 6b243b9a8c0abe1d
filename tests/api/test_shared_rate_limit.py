"""A key's rate limit holds across processes: two separate processes, each with its own cache
client, share one count when the cache is shared (the database cache `make run` configures, or
Redis), and would each grant the full limit with the per-process default."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIMIT = 5
# A fixed moment in the middle of a window: nothing fades between the two processes' hits.
NOW = 1_800_000_030.0

HITS = """
import django, sys
django.setup()
from tessera import ratelimit
allowed = sum(ratelimit.hit("api-key", sys.argv[1], limit=int(sys.argv[2]), window=60, now=float(sys.argv[3])).allowed
              for _ in range(int(sys.argv[4])))
print(allowed)
"""


def _environment(tmp_path: Path, cache_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DJANGO_SETTINGS_MODULE="tessera.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'desk.sqlite3'}",
        TESSERA_DATA_DIR=str(tmp_path),
        CACHE_URL=cache_url,
    )
    return env


def _allowed_in_a_new_process(env: dict[str, str], key: str, tries: int) -> int:
    done = subprocess.run(
        [sys.executable, "-c", HITS, key, str(LIMIT), str(NOW), str(tries)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip())


def _two_processes(env: dict[str, str]) -> tuple[int, int]:
    key = f"test-{uuid.uuid4()}"  # nothing left from another run can count
    return _allowed_in_a_new_process(env, key, 4), _allowed_in_a_new_process(env, key, 4)


def test_with_the_database_cache_make_run_uses_two_processes_share_one_limit(tmp_path):
    env = _environment(tmp_path, "dbcache://tessera_cache")
    subprocess.run([sys.executable, "manage.py", "createcachetable"], env=env, cwd=REPO, check=True)
    assert _two_processes(env) == (4, 1)


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_with_redis_two_processes_share_one_limit(tmp_path):
    assert _two_processes(_environment(tmp_path, "redis://127.0.0.1:6379/15")) == (4, 1)


def test_with_local_memory_each_process_would_count_alone(tmp_path):
    """Why the shared cache matters: the per-process default lets each worker grant the whole limit."""
    assert _two_processes(_environment(tmp_path, "locmemcache://")) == (4, 4)
