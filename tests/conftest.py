"""Shared fixtures: the story's people (John, Jane, Ken), a real SMTP peer, and Chromium."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from tessera import process_memo

# Playwright's sync API keeps an asyncio loop running in the main thread; Django would
# then refuse ORM calls from test bodies and fixtures. They really are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser stories get two more tries. The live server shares the in-memory SQLite
    connection across its threads (Django's LiveServerThread), so a request left in flight by an
    earlier story can, rarely, break a later one's session write; a real regression fails all
    three tries. Every retry is reported in the run's summary (pytest-rerunfailures)."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.flaky(reruns=2, reruns_delay=1))
        else:
            # The same cause could reach the next test in that worker: a browser's heartbeat
            # (presence, counts) still in flight when a story ended takes a table lock on the
            # shared in-memory connection. Stories now close their browsers and wait for the
            # server's requests in flight (tests/e2e/conftest.py), so this guard should not
            # fire; if it does, only that error is retried, twice, two seconds apart, and any
            # other failure stands.
            item.add_marker(pytest.mark.flaky(reruns=2, reruns_delay=2, only_rerun=["database table is locked"]))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Why each retried test failed before it passed: the retry summary names the test only, and a
    flaky story is fixed from its error, not its name."""
    reruns = terminalreporter.stats.get("rerun", [])
    if not reruns:
        return
    terminalreporter.section("why the retried tests failed first")
    for report in reruns:
        lines = report.longreprtext.strip().splitlines()
        errors = [line for line in lines if line.startswith("E ")][:6] or lines[-3:]
        terminalreporter.write_line(f"{report.nodeid} ({report.when}):")
        for line in errors:
            terminalreporter.write_line(f"    {line[:200]}")


@pytest.fixture(autouse=True)
def _fresh_process_memos():
    """Rows a test rolls back send no signals: forget what the process memos read."""
    process_memo.forget_all()
    yield
    process_memo.forget_all()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters and cached counts live in the cache, which outlives a test's rollback."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _desk_language():
    """Each test starts in the desk's language: one that renders mail or a page in German must not
    leave German active for the next test on this worker's thread."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(scope="session", autouse=True)
def _plain_static_files():
    """Static files through the finders for the whole run, not only inside each test (below): a
    live server's thread may still answer a browser's late request between two tests, when
    per-test settings are gone, and the desk's hashed-name storage then fails on a file that
    was never collected ("Missing staticfiles manifest entry"), inside whichever test comes next."""
    from django.conf import settings
    from django.test import override_settings

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"
    # Tests check counts right after changing tickets; the count cache has its own test.
    settings.TESSERA = {**settings.TESSERA, "COUNTS_CACHE_SECONDS": 0}
    # The portal's minimum time to submit (portal/spam.py) has its own tests.
    settings.PORTAL_MIN_SUBMIT_SECONDS = 0
    # live_server serves static files through the finders, which do not know manifest names.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def no_intake_limit(settings):
    """For tests that open many tickets from one address; the limit has its own tests."""
    settings.TESSERA = {**settings.TESSERA, "INTAKE_LIMIT_PER_IP": 10_000, "INTAKE_LIMIT_PER_ADDRESS": 10_000}


@pytest.fixture
def desk(db):
    """Support (tier 1) and System Administration, with John, Jane, Ken and an outsider agent."""
    from tessera.accounts.models import Agent, Department, Membership, Role, Team, User
    from tessera.tickets.defaults import ensure_defaults
    from tessera.tickets.models import HelpTopic, Priority, Status

    ensure_defaults(Priority, Status, Role)
    support = Department.objects.create(name="Support", email="support@example.com")
    sysadmin = Department.objects.create(name="System Administration", email="sysadmin@example.com")
    billing = Department.objects.create(name="Billing")
    agent_role = Role.objects.get(name="Agent")
    observer = Role.objects.get(name="Observer")

    def agent(email, name, dept, role=agent_role):
        user = User.objects.create_user(email, PASSWORD, name=name)
        a = Agent.objects.create(user=user)
        Membership.objects.create(agent=a, department=dept, role=role, is_primary=True)
        return a

    john = agent("john@example.com", "John Doe", support)
    jane = agent("jane@example.com", "Jane Doe", sysadmin)
    bill = agent("bill@example.com", "Bill Payne", billing)
    olga = agent("olga@example.com", "Olga Observer", support, observer)
    ops = Team.objects.create(name="Infrastructure on-call", lead=jane)
    ops.members.add(jane)
    ken = User.objects.create_user("ken@example.com", PASSWORD, name="Ken Adams")
    admin = User.objects.create_superuser("admin@example.com", PASSWORD, name="Ada Admin")
    priorities = {p.urgency: p for p in Priority.objects.all()}
    statuses = {s.state: s for s in Status.objects.all()}
    return SimpleNamespace(
        support=support,
        sysadmin=sysadmin,
        billing=billing,
        john=john,
        jane=jane,
        bill=bill,
        olga=olga,
        ken=ken,
        admin=admin,
        ops=ops,
        sev_a=priorities[1],
        sev_b=priorities[2],
        sev_c=priorities[3],
        sev_d=priorities[4],
        open=statuses["open"],
        pending=statuses["pending"],
        resolved=statuses["resolved"],
        closed=statuses["closed"],
        general=HelpTopic.objects.create(name="General question", department=support, default_priority=priorities[3]),
        outage=HelpTopic.objects.create(name="Server outage", department=sysadmin, default_priority=priorities[2]),
        internal=HelpTopic.objects.create(name="Internal: hardware", department=sysadmin, is_public=False),
        password=PASSWORD,
    )


@pytest.fixture
def acme(desk):
    """Ken's organisation, Acme, which does not share tickets: only a manager sees them all.
    (Modules that need another Acme define their own.)"""
    from tessera.accounts.models import Organization

    org = Organization.objects.create(name="Acme")
    desk.ken.organization = org
    desk.ken.save()
    return org


@pytest.fixture
def ken_ticket(desk):
    """A ticket Ken opened on the portal about the printer, sitting unassigned in Support."""
    from tessera.tickets import services

    return services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer jams", message="It jams on page two.", topic=desk.general
    )


# ---------------------------------------------------------------------------- a real SMTP peer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SmtpSink:
    """Collects what Tessera's SMTP client delivers; messages are parsed MIME."""

    port: int = 0
    envelopes: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self):
        from email import message_from_bytes, policy

        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]

    def to(self, address: str):
        return [m for m in self.messages if address in m["To"]]

    def wait_for(self, predicate, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages if predicate(m)]
            if found:
                return found
            time.sleep(0.05)
        subjects = [(m["To"], m["Subject"]) for m in self.messages]
        raise AssertionError(f"no matching email within {timeout}s; got {subjects}")


@contextlib.contextmanager
def smtp_peer(sink: SmtpSink, settings):
    """Route Tessera's mail through Django's SMTP backend to an aiosmtpd server on 127.0.0.1
    whose handler is `sink` (a subclass may refuse or fail on purpose)."""
    from aiosmtpd.controller import Controller

    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 5},
        }
    }
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def smtp(settings):
    with smtp_peer(SmtpSink(), settings) as sink:
        yield sink


def body_text(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


# ---------------------------------------------------------------------------- Chromium


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite file migrated by `manage.py migrate` in its own process, as an operator's desk is:
    made once per run and shared by every xdist worker (a lock in the run's common temporary
    folder), since migrating from nothing costs seconds. Copy it; never write to it."""
    root = tmp_path_factory.getbasetemp().parent  # shared by the workers of one run
    path = root / "migrated-desk.sqlite3"
    with (root / "migrated-desk.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TASKS_BACKEND")}
            env.update(DATABASE_URL=f"sqlite:///{path}.part", TESSERA_DATA_DIR=str(root), PYTHONPATH=str(REPO))
            env["DJANGO_SETTINGS_MODULE"] = "tessera.settings"
            subprocess.run(
                [sys.executable, str(REPO / "manage.py"), "migrate", "--no-input", "-v0"],
                cwd=REPO,
                env=env,
                check=True,
                capture_output=True,
                timeout=600,
            )
            Path(f"{path}.part").rename(path)
    return path
