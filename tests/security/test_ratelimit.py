"""The cache-backed limiter behind the portal's intake limits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.test import RequestFactory

from tessera import ratelimit

ROOT = Path(__file__).resolve().parents[2]


def test_hits_up_to_the_limit_pass_and_the_next_is_refused():
    now = 1_000_000.0
    results = [ratelimit.hit("t", "1.2.3.4", limit=3, window=3600, now=now + i) for i in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert 0 < results[-1].retry_after <= 3600


def test_keys_and_scopes_are_counted_apart():
    now = 1_000_000.0
    assert ratelimit.hit("ip", "a", limit=1, window=60, now=now).allowed
    assert ratelimit.hit("ip", "b", limit=1, window=60, now=now).allowed
    assert ratelimit.hit("address", "a", limit=1, window=60, now=now).allowed
    assert not ratelimit.hit("ip", "a", limit=1, window=60, now=now).allowed


def test_the_window_slides_rather_than_resetting_all_at_once():
    window = 3600
    start = 7200.0  # the start of a fixed window
    for i in range(4):
        assert ratelimit.hit("t", "k", limit=4, window=window, now=start + 3000 + i).allowed
    # Just after the boundary the previous window still counts almost fully: no burst of 2 × limit.
    assert not ratelimit.hit("t", "k", limit=4, window=window, now=start + window + 10).allowed
    # Three quarters into the next window a quarter of the old hits remain: room for three more.
    later = start + window + window * 3 / 4
    allowed = [ratelimit.hit("t", "k", limit=4, window=window, now=later + i).allowed for i in range(4)]
    assert allowed == [True, True, True, False]
    # Two windows on, everything is forgotten.
    assert ratelimit.hit("t", "k", limit=4, window=window, now=start + 3 * window + 1).allowed


def test_a_refused_hit_is_not_counted_so_waiting_is_enough():
    now = 1_000_000.0
    assert ratelimit.hit("t", "k", limit=1, window=60, now=now).allowed
    for i in range(10):
        assert not ratelimit.hit("t", "k", limit=1, window=60, now=now + 1 + i).allowed
    assert ratelimit.hit("t", "k", limit=1, window=60, now=now + 125).allowed


def test_a_limit_of_zero_turns_the_limiter_off():
    assert all(ratelimit.hit("t", "k", limit=0, window=60).allowed for _ in range(50))


def test_the_client_address_is_the_peer_unless_proxies_are_trusted(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    settings.TESSERA = {**settings.TESSERA, "TRUSTED_PROXIES": 0}
    assert ratelimit.client_ip(request) == "10.0.0.5"  # a client cannot pick its own address
    settings.TESSERA = {**settings.TESSERA, "TRUSTED_PROXIES": 1}
    assert ratelimit.client_ip(request) == "198.51.100.7"  # the address our one proxy saw
    settings.TESSERA = {**settings.TESSERA, "TRUSTED_PROXIES": 5}
    assert ratelimit.client_ip(request) == "6.6.6.6"  # never further than the header goes


COUNT = """
from tessera import ratelimit
print(sum(ratelimit.hit("intake-ip", "203.0.113.9", limit=5, window=3600).allowed for _ in range(4)))
"""


def test_a_shared_cache_holds_the_limit_across_processes(tmp_path):
    """What the README recommends for several worker processes: CACHE_URL naming a shared cache."""
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME")},
        "DJANGO_SETTINGS_MODULE": "tessera.settings",
        "TESSERA_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": "dbcache://tessera_cache",
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    manage("createcachetable")
    first, second = manage("shell", "-c", COUNT), manage("shell", "-c", COUNT)
    assert (first, second) == ("4", "1")  # the second process sees the first one's hits
