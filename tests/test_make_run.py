"""`make run` on a port of the operator's choosing: the links in the desk's mail must lead back to it."""

from __future__ import annotations

import email
import email.policy
import html
import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from django.conf import settings

from tessera.checks import base_url_is_served

# The module-scoped desk is made once: xdist keeps these tests on one worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("make_run")

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_served(url: str, proc: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"make run exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"make run did not serve {url} within {seconds} s")


@pytest.fixture(scope="module")
def desk_on_another_port(tmp_path_factory):
    """A fresh `make run` (SQLite, demo desk) on a free port, stopped by its process group; one
    for the module, since setting up a desk from nothing takes a while."""
    tmp_path = tmp_path_factory.mktemp("make-run")
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        # MAKEFLAGS: a `make test DATABASE_URL=…` would pass its variables on to this `make run`.
        if k not in ("DATABASE_URL", "TESSERA_BASE_URL", "DJANGO_SETTINGS_MODULE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    env.update(
        PORT=str(port),
        TESSERA_DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'desk.sqlite3'}",
        TESSERA_DEMO_PASSWORD="demo-password-for-the-test",
    )
    log = (tmp_path / "make-run.log").open("wb")
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # make, its shell and gunicorn share one group, stopped together
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_served(base + "/", proc)
        yield base, tmp_path / "data" / "mail", tmp_path / "desk.sqlite3"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _bodies_to(log: bytes, address: str) -> str:
    """The decoded text of the messages to `address` that Django's file mailer wrote (one per dashed separator)."""
    texts: list[str] = []
    for chunk in log.split(b"-" * 79):
        if not chunk.strip():
            continue
        message = email.message_from_bytes(chunk.strip(), policy=email.policy.default)
        if address in str(message["To"]):
            texts.extend(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")
    return "\n".join(texts)


def _mail_to(mail_dir: Path, address: str, seconds: float = 60) -> str:
    """The mail to `address`, waited for: the desk's task worker sends it after the request."""
    deadline = time.monotonic() + seconds
    while True:
        mails = "\n".join(_bodies_to(p.read_bytes(), address) for p in sorted(mail_dir.glob("*"))).strip()
        if "/t/" in mails or time.monotonic() > deadline:
            return mails
        time.sleep(0.5)


def test_links_in_mail_lead_back_to_the_port_make_run_serves_on(desk_on_another_port):
    base, mail_dir, database = desk_on_another_port
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(base + "/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    topic = re.search(r'<option value="(\d+)"', page).group(1)
    # The spam check: the form's signed start time, and a person takes a few seconds to type.
    started = re.search(r'name="started" value="([^"]+)"', page).group(1)
    time.sleep(3.2)  # the desk's default minimum (TESSERA_PORTAL_MIN_SUBMIT_SECONDS), not this process's 0
    form = {
        "csrfmiddlewaretoken": token,
        "started": started,
        "website": "",
        "name": "Kim Customer",
        "email": "kim@example.org",
        "topic": topic,
        "subject": "Printer on the third floor is jammed",
        "message": "It shows error E-42.",
    }
    request = urllib.request.Request(base + "/", data=urllib.parse.urlencode(form).encode(), headers={"Referer": base})
    assert opener.open(request).status == 200

    mails = _mail_to(mail_dir, "kim@example.org")
    links = set(re.findall(r"http://127\.0\.0\.1:\d+/t/[\w.:-]+/", mails))
    assert links, f"the confirmation mail carries an access link: {mails[:2000]}"
    assert all(link.startswith(base + "/") for link in links)
    with urllib.request.urlopen(html.unescape(links.pop())) as response:
        assert response.status == 200
        assert "Printer on the third floor is jammed" in response.read().decode()

    # The confirmation went through the desk's task worker (the database backend), not the request.
    with sqlite3.connect(database) as db:
        tasks = db.execute("SELECT task_path, status FROM django_tasks_database_dbtaskresult").fetchall()
    assert ("tessera.tickets.notifications.deliver_change", "SUCCESSFUL") in tasks, tasks


def test_make_run_starts_the_scheduler_beside_the_web_server(desk_on_another_port):
    _base, _mail_dir, database = desk_on_another_port
    deadline = time.monotonic() + 60
    runs: list[tuple[str, str]] = []
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as db:
            runs = db.execute(
                "SELECT s.name, r.outcome FROM scheduler_jobrun r JOIN scheduler_jobschedule s ON s.id = r.job_id"
            ).fetchall()
        if ("mail.retry_outbound", "succeeded") in runs:
            break
        time.sleep(0.5)
    assert ("mail.retry_outbound", "succeeded") in runs, runs


def test_check_warns_when_the_base_url_host_is_not_an_allowed_host(settings):
    settings.TESSERA = {**settings.TESSERA, "BASE_URL": "https://help.example.com"}
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    assert [m.id for m in base_url_is_served()] == ["tessera.W002"]

    settings.ALLOWED_HOSTS = [".example.com"]
    assert [m.id for m in base_url_is_served()] == []


def test_check_warns_about_a_base_url_that_is_not_an_address(settings):
    settings.TESSERA = {**settings.TESSERA, "BASE_URL": "help.example.com"}
    assert [m.id for m in base_url_is_served()] == ["tessera.W001"]


def test_unset_base_url_follows_the_port():
    env = {k: v for k, v in os.environ.items() if k != "TESSERA_BASE_URL"}
    env["PORT"] = "8765"
    out = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-c", "import tessera.settings as s; print(s.TESSERA['BASE_URL'])"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "http://127.0.0.1:8765"
    assert settings.TESSERA["BASE_URL"]  # the suite's own settings still have one
