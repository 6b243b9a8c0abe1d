"""DATABASE_SERVER_SIDE_BINDING: an operator's switch for prepared statements on PostgreSQL
(bench/RESULTS.md, issue 13); off unless asked for, and never applied to SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _options(**env: str) -> dict:
    code = (
        "import json; from tessera import settings; print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


PG = "postgres://postgres@127.0.0.1:5432/anything"


def test_postgresql_binds_on_the_client_unless_the_operator_asks():
    options = _options(DATABASE_URL=PG)
    assert "server_side_binding" not in options and "prepare_threshold" not in options
    assert options["options"] == "-c jit=off"


def test_the_switch_prepares_statements_from_their_fifth_use_or_the_operators_threshold():
    assert _options(DATABASE_URL=PG, DATABASE_SERVER_SIDE_BINDING="1")["prepare_threshold"] == 5
    options = _options(DATABASE_URL=PG, DATABASE_SERVER_SIDE_BINDING="true", DATABASE_PREPARE_THRESHOLD="2")
    assert options["server_side_binding"] is True and options["prepare_threshold"] == 2


@pytest.mark.parametrize("value", ["0", "false", "no"])
def test_switched_off_is_off(value):
    assert "server_side_binding" not in _options(DATABASE_URL=PG, DATABASE_SERVER_SIDE_BINDING=value)


def test_sqlite_ignores_the_switch():
    options = _options(DATABASE_URL="sqlite:////tmp/tessera-binding-test.sqlite3", DATABASE_SERVER_SIDE_BINDING="1")
    assert "server_side_binding" not in options and "prepare_threshold" not in options
