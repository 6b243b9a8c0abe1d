"""`manage.py create_api_key`: the key alone on standard output, every refusal on standard error."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from django.core.management import CommandError, call_command
from django.utils import timezone

from tessera.api import keys
from tessera.api.models import ApiKey, Scope

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_key_is_printed_once_and_alone_so_a_script_can_capture_it(desk):
    out, err = run("--name", "Monitoring", "--scope", "tickets:read", "tickets:write")
    raw = out.strip()
    assert out == raw + "\n" and raw.startswith(keys.KEY_PREFIX)
    key = ApiKey.objects.get(name="Monitoring")
    assert key.digest == keys.digest_of(raw) and raw not in err and key.prefix in err
    assert key.scopes == [Scope.TICKETS_READ, Scope.TICKETS_WRITE] and key.agent is None


def test_every_option_is_kept_on_the_key(desk):
    out, _ = run(
        "--name",
        "John's script",
        "--agent",
        "JOHN@example.com",
        "--ip",
        "10.1.2.3",
        "192.0.2.0/24",
        "--ip",
        "2001:db8::/32",
        "--scope",
        "tickets:read",
        "--expires",
        (timezone.localdate() + timedelta(days=30)).isoformat(),
        "--rate-limit",
        "120",
    )
    key = ApiKey.objects.get(digest=keys.digest_of(out.strip()))
    assert key.agent == desk.john and key.rate_limit == 120
    assert key.allowed_ips == ["10.1.2.3/32", "192.0.2.0/24", "2001:db8::/32"]
    assert key.expires_at is not None and key.expires_at > timezone.now() + timedelta(days=29)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agent", "nobody@example.com"], "no agent has the address"),
        (["--agent", "ken@example.com"], "no agent has the address"),  # an end user, not an agent
        (["--ip", "10.0.0.0/33"], "not an IP address or CIDR range"),
        (["--ip", "example.com"], "not an IP address or CIDR range"),
        (["--scope", "tickets:delete"], "Unknown scope: tickets:delete"),
        (["--expires", "2001-01-01"], "must be in the future"),
        (["--expires", "next tuesday"], "is not a date"),
        (["--expires", "2030-02-30"], "is not a date"),
    ],
)
def test_a_bad_option_is_refused_with_a_clear_message_and_no_key(desk, args, message):
    with pytest.raises(CommandError, match=message):
        run("--name", "Bad", *args)
    assert not ApiKey.objects.filter(name="Bad").exists()


def test_a_duplicate_name_is_refused(desk):
    run("--name", "Monitoring")
    with pytest.raises(CommandError, match="already exists"):
        run("--name", "monitoring")
    assert ApiKey.objects.count() == 1


def test_a_key_for_a_disabled_agent_is_refused(desk):
    desk.john.is_active = False
    desk.john.save()
    with pytest.raises(CommandError, match="disabled"):
        run("--name", "Johns", "--agent", "john@example.com")


def test_from_the_shell_an_error_exits_non_zero_with_nothing_on_standard_output(tmp_path, migrated_sqlite):
    """The real command line: what a script sees."""
    database = tmp_path / "desk.sqlite3"
    shutil.copyfile(migrated_sqlite, database)
    env = {"DATABASE_URL": f"sqlite:///{database}", "TESSERA_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    manage = [sys.executable, "manage.py"]
    bad = subprocess.run(
        [*manage, "create_api_key", "--name", "Bad", "--scope", "nope"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and bad.stdout == "" and "Unknown scope: nope" in bad.stderr
    good = subprocess.run(
        [*manage, "create_api_key", "--name", "Good", "--scope", "tickets:read"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0 and good.stdout.strip().startswith(keys.KEY_PREFIX)
    assert good.stdout.count("\n") == 1
