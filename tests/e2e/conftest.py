"""Browser stories run against a live server with mail going to a real SMTP peer."""

import re
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

# How long a story's end waits for the live server to finish requests already in flight.
IN_FLIGHT_GRACE_SECONDS = 10


class InFlight:
    """Counts the requests the live server is answering. A request counts until the server
    closes its response (WSGI's close()), so a streamed file counts until its last byte."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self.count = 0
        self.idle = threading.Condition()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        with self.idle:
            self.count += 1
        try:
            return _Answer(self.app(environ, start_response), self._done)
        except BaseException:
            self._done()
            raise

    def _done(self) -> None:
        with self.idle:
            self.count -= 1
            self.idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.idle:
            return self.idle.wait_for(lambda: self.count <= 0, timeout)


class _Answer:
    """A response body that tells InFlight when the server has closed it."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self.body, self.done = body, done
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.done()


def _in_flight(live_server) -> InFlight:
    httpd = live_server.thread.httpd
    app = httpd.get_app()
    if not isinstance(app, InFlight):
        app = InFlight(app)
        httpd.set_app(app)
    return app


@pytest.fixture(autouse=True)
def _story_ends_quietly(request: pytest.FixtureRequest, browser: Browser) -> Iterator[None]:
    """A story ends with no browser still talking to the live server. Stories open their own
    contexts (one per person); left open, a workspace page keeps sending its heartbeats
    (presence, counts) for the rest of the run, into later tests: on the shared in-memory
    SQLite connection such a request takes a table lock a later test then meets, or arrives
    after the database is closed to tests. So every context the story opened is closed, then
    the requests already in flight are let finish, before the database is emptied."""
    opened_before = set(browser.contexts)
    server = _in_flight(request.getfixturevalue("live_server")) if "live_server" in request.fixturenames else None
    yield
    for context in browser.contexts:
        if context not in opened_before:
            context.close()
    if server is not None and not server.wait_idle(IN_FLIGHT_GRACE_SECONDS):
        warnings.warn(
            f"the live server was still answering {server.count} request(s) when the story ended", stacklevel=1
        )


@pytest.fixture
def site(live_server, settings, smtp):
    """The live desk: links inside emails point at it, and its mail reaches `smtp`."""
    settings.TESSERA = {**settings.TESSERA, "BASE_URL": live_server.url}
    return live_server


@pytest.fixture
def csp_violations(page: Page):
    """Collects Content-Security-Policy violations (and script errors) the page reports."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def sign_in_to_workspace(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(base_url + "/staff/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def link_in(text: str, base_url: str) -> str:
    match = re.search(re.escape(base_url) + r"/t/[^\s\"<>]+/", text)
    assert match, f"no access link in: {text}"
    return match.group(0)
