"""The hostile corpus, planted through every surface, runs nowhere a person looks at it: the
portal ticket pages, the workspace queues, ticket pages and search results, the received-mail
view and the admin's changelists, each loaded in Chromium with a `window.__xss` canary.

One test loads every page (browser tests are the slow part of CI); what the pages show is
planted by tests/security/test_hostile_corpus.py's `plant`, as a visitor, Ken, John and the
administrator would have typed or mailed it.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Dialog

from tests.security import hostile
from tests.security.test_hostile_corpus import plant

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("no_intake_limit")]

# Every payload tries to set window.__xss; record each attempt even if a later script resets it.
CANARY = """
window.__xssHits = [];
Object.defineProperty(window, '__xss', {
  configurable: false,
  get() { return window.__xssHits.length ? window.__xssHits.join(',') : undefined; },
  set(value) { window.__xssHits.push(String(value)); },
});
"""


def test_no_page_showing_the_hostile_corpus_runs_any_of_it(transactional_db, desk, site, browser: Browser):
    planted = plant(desk)
    assert len(planted.pages) >= 15
    pages, dialogs, hits = {}, [], []
    for persona, client in planted.clients.items():
        context = browser.new_context()
        context.add_init_script(CANARY)
        if "sessionid" in client.cookies:
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site.url}])
        page = context.new_page()

        def on_dialog(d: Dialog, who: str = persona) -> None:
            dialogs.append(f"{who}: {d.message}")
            d.dismiss()

        page.on("dialog", on_dialog)
        pages[persona] = page

    for persona, path in planted.pages:
        page = pages[persona]
        response = page.goto(site.url + path)
        assert response is not None and response.status == 200, (persona, path)
        page.wait_for_load_state("load")
        page.wait_for_timeout(150)  # image errors and toggles fire after load
        for frame in page.frames:
            found = frame.evaluate("() => window.__xss")
            if found:
                hits.append(f"{path} as {persona} ({frame.url}): {found}")
        # Nothing that would run on a click either.
        clickable = page.locator("a[href^='javascript' i], a[href^='data:' i], form[action^='javascript' i]").count()
        if clickable:
            hits.append(f"{path} as {persona}: {clickable} link(s) or form(s) to script")

    assert not hits, "\n".join(hits)
    assert not dialogs, dialogs
    # The canary itself works: a blank page (no Content-Security-Policy) that runs a payload is caught.
    context = browser.new_context()
    context.add_init_script(CANARY)
    probe = context.new_page()

    def on_probe_dialog(d: Dialog) -> None:
        dialogs.append(f"probe: {d.message}")
        d.dismiss()

    probe.on("dialog", on_probe_dialog)
    probe.set_content(f"<body>{hostile.XSS['img-onerror']}</body>")
    probe.wait_for_timeout(150)
    assert probe.evaluate("() => window.__xss") == "img"
    assert dialogs == ["probe: img"]
