"""A real receiver on 127.0.0.1 (http.server in a thread) and subscriptions pointing at it.

Services announce changes after their commit; the test transaction never commits, so changes
are made inside `committed` (django_capture_on_commit_callbacks(execute=True)). The task
backend is the immediate one: a delivery is sent as soon as it is queued. Time moves by
passing `now` to the job, never by sleeping.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tessera.webhooks.models import Subscription

RECEIVER_NETWORK = "127.0.0.1/32"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answer: int

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next planned answer (a status code, or "hang" to answer too
    late), then 200 once the plan is used up."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    plan: list[int | str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/tessera?from=desk"

    def answer(self) -> int | str:
        with self.lock:
            return self.plan.pop(0) if self.plan else 200

    @property
    def taken(self) -> list[Received]:
        """The requests answered with 200 (the others were refused on purpose)."""
        return [r for r in self.received if r.answer == 200]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.json for r in self.taken]

    def events(self) -> list[str]:
        return [r.headers["Tessera-Webhook-Event"] for r in self.taken]


def _handler(receiver: Receiver) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            answer = receiver.answer()
            if answer == "hang":
                time.sleep(1.5)  # longer than the tests' read timeout
                answer = 200
            else:
                with receiver.lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body, int(answer)))
            self.send_response(int(answer))
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    sink = Receiver()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(sink))
    server.daemon_threads = True
    sink.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _webhook_settings(settings: Any) -> None:
    """The receiver's address is allowed; short timeouts; pause after 3 failures in a row; no
    settle window."""
    settings.TESSERA = {
        **settings.TESSERA,
        "WEBHOOK_ALLOWED_NETWORKS": [RECEIVER_NETWORK],
        "WEBHOOK_ALLOW_PRIVATE": False,
        "WEBHOOK_CONNECT_TIMEOUT": 1.0,
        "WEBHOOK_READ_TIMEOUT": 0.5,
        "WEBHOOK_ATTEMPTS": 4,
        "WEBHOOK_RETRY_SECONDS": 60,
        "WEBHOOK_PAUSE_AFTER_FAILURES": 3,
        # Sent as soon as queued; the settle window has its own tests (test_order_by_commit).
        "WEBHOOK_SETTLE_SECONDS": 0,
    }


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Run a service call as if its transaction had committed."""

    def run(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def subscribe(desk: Any) -> Callable[..., Subscription]:
    def make(url: str, events: list[str] | None = None, name: str = "CRM sync") -> Subscription:
        subscription = Subscription(
            name=name,
            url=url,
            events=events
            or [
                "ticket.created",
                "ticket.updated",
                "ticket.assigned",
                "ticket.status_changed",
                "message.created",
                "note.created",
                "sla.warning",
                "sla.breached",
            ],
            owner=desk.admin,
        )
        subscription.full_clean()
        subscription.save()
        return subscription

    return make
