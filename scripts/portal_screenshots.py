"""Take the README's pictures of the Help Center from a fresh demo desk.

    .venv/bin/python scripts/portal_screenshots.py

A throwaway desk (SQLite in a temporary folder, the demo data `make run` loads) is served on a
loopback port while Chromium opens the pages a customer sees first: the new-ticket form with a
knowledge-base suggestion under the subject, a ticket, the knowledge base, and a ticket on a
phone. The pictures go to docs/img/; the server is stopped by its PID.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
PASSWORD = "screenshot-demo-2026"  # noqa: S105 - a throwaway demo desk's, deleted with it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - http://127.0.0.1 that we started
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"The desk did not answer at {url}.")


def sign_in(page: Page, base: str) -> None:
    page.goto(base + "/login/")
    page.get_by_label("Email address").fill("ken@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data = tempfile.mkdtemp(prefix="tessera-shots-")
    env = {
        **os.environ,
        "TESSERA_DATA_DIR": data,
        "TESSERA_DEMO_PASSWORD": PASSWORD,
        "DEBUG": "false",
        # As `make run`: tasks and the shared cache in the database.
        "TASKS_BACKEND": "database",
        "CACHE_URL": "dbcache://tessera_cache",
    }
    env.pop("DATABASE_URL", None)
    manage(env, "compilemessages")
    manage(env, "migrate", "--no-input")
    manage(env, "createcachetable")
    manage(env, "seed_demo", "--if-empty")
    manage(env, "collectstatic", "--no-input", "-v0")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # As `make run` serves it (static files included), in its own process group to stop it whole.
    server = subprocess.Popen(  # noqa: S603 - our own manage.py, on loopback
        [sys.executable, "manage.py", "run_desk", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_up(base + "/")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            desk = browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-GB")
            page = desk.new_page()
            page.goto(base + "/")
            page.get_by_label("Subject").press_sequentially("printer jams", delay=30)
            try:
                page.locator("#kb-suggestions a").first.wait_for(timeout=10_000)
            except Exception:
                page.screenshot(path=Path(data) / "failed.png")
                print("no suggestion; page saved to", Path(data) / "failed.png", file=sys.stderr)
                raise
            page.screenshot(path=OUT / "portal-new-ticket.png")

            page.goto(base + "/kb/")
            page.screenshot(path=OUT / "portal-knowledge-base.png")

            sign_in(page, base)
            page.goto(base + "/tickets/")
            page.locator("main a[href^='/tickets/']").first.click()
            page.wait_for_load_state()
            page.screenshot(path=OUT / "portal-ticket.png")
            ticket_url = page.url

            phone = browser.new_context(viewport={"width": 375, "height": 740}, locale="en-GB", device_scale_factor=2)
            small = phone.new_page()
            sign_in(small, base)
            small.goto(ticket_url)
            small.screenshot(path=OUT / "portal-ticket-phone.png")
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(f"Pictures written to {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
