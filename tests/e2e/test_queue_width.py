"""A queue uses the whole screen of a laptop (1366 px) and of a desktop (1920 px): every cell on
one line, nothing cut off without its full text in a tooltip, and the subject taking the room
that is left (shortened with an ellipsis, its full text in the link's title). Compact rows
(the agent's density setting) are shorter and keep all of that. Every queue shows the time left
or overdue by default (the Due column), short enough to keep the rows on one line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import time, timedelta

import pytest
from playwright.sync_api import Page, expect

from django.utils import timezone

from tessera.accounts.models import Agent
from tessera.sla.models import Schedule, ScheduleInterval, SlaPlan
from tessera.tickets import services
from tessera.tickets.models import Status, Ticket

from .conftest import sign_in_to_workspace

pytestmark = pytest.mark.e2e

LONG_SUBJECT = (
    "Every printer on the third floor prints blank pages since the driver update last night, "
    "and the plotter in the design studio refuses jobs larger than A3 with an error nobody can read"
)

# One line per cell, measured inside the page: a cell whose content is taller than 1.5 lines
# wrapped; a cell whose content is wider than its box is clipped, unless it is the subject or a
# shortened name (.cut) that carries the whole text in its title.
MEASURE = """() => {
  const wrap = document.querySelector('.table-wrap');
  const out = {wrapClipped: wrap.scrollWidth > wrap.clientWidth,
               tableRight: document.querySelector('#queue-table').getBoundingClientRect().right,
               mainWidth: document.querySelector('main').getBoundingClientRect().width,
               cells: []};
  for (const td of document.querySelectorAll('#queue-rows td')) {
    const style = getComputedStyle(td);
    const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.2;
    const inner = td.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    const cut = [...td.querySelectorAll('.cut')].some(el => el.scrollWidth > el.clientWidth + 1
                                                           && el.title !== el.textContent.trim());
    out.cells.push({cls: td.className, wrapped: inner > line * 1.5, text: td.innerText,
                    width: Math.round(td.getBoundingClientRect().width),
                    clipped: cut || (td.scrollWidth > td.clientWidth + 1 && td.className !== 'subject'),
                    subjectWidth: td.className === 'subject' ? td.clientWidth : null});
  }
  out.rowHeights = [...document.querySelectorAll('#queue-rows tr')].map(tr => tr.getBoundingClientRect().height);
  return out;
}"""


@pytest.fixture
def john(transactional_db, desk, site, page: Page, csp_violations) -> Iterator[Page]:
    """Jane's three tickets on an around-the-clock plan: one due soon, one hours overdue, one
    waiting on the customer (its clock paused)."""
    always = Schedule.objects.create(name="Around the clock", time_zone="UTC")
    for weekday in range(7):
        ScheduleInterval.objects.create(schedule=always, weekday=weekday, start=time(0), end=time(0))
    desk.sysadmin.sla_plan = SlaPlan.objects.create(
        name="On call", schedule=always, first_response_minutes=45, resolution_minutes=600
    )
    desk.sysadmin.save()
    waiting = Status.objects.get(state="pending")
    for subject, priority in [(LONG_SUBJECT, desk.sev_a), ("VPN slow", desk.sev_b), ("Mouse broken", desk.sev_d)]:
        ticket = services.open_ticket(
            desk.ken, requester=desk.ken, subject=subject, message="Please help.", topic=desk.outage
        )
        if ticket.priority != priority:
            services.set_priority(desk.jane.user, ticket, priority=priority)
        services.assign(desk.jane.user, ticket, agent=desk.jane, team=desk.ops)
        if subject == "VPN slow":  # opened long ago
            Ticket.objects.filter(pk=ticket.pk).update(first_response_due_at=timezone.now() - timedelta(hours=23))
        if subject == "Mouse broken":
            services.set_status(desk.jane.user, ticket, status=waiting)
    sign_in_to_workspace(page, site.url, "jane@example.com", desk.password)
    yield page
    assert csp_violations == []


def due_cells(seen: dict) -> list[str]:
    return [c["text"].strip() for c in seen["cells"] if "col-due" in c["cls"]]


SCREENS = [(1366, 768), (1366, 900), (1920, 1080)]


@pytest.mark.parametrize("width, height", SCREENS)
def test_queue_fills_the_screen_with_one_line_per_cell(desk, site, john: Page, width, height):
    john.set_viewport_size({"width": width, "height": height})
    john.goto(site.url + "/staff/queues/all/")
    expect(john.locator("#queue-rows tr")).to_have_count(3)

    seen = john.evaluate(MEASURE)
    assert not seen["wrapClipped"] and seen["tableRight"] <= width, {k: v for k, v in seen.items() if k != "cells"}
    assert seen["mainWidth"] > width - 400  # the sidebar and margins, nothing else
    assert [c for c in seen["cells"] if c["wrapped"]] == []
    assert [c for c in seen["cells"] if c["clipped"]] == []
    subject = min(c["subjectWidth"] for c in seen["cells"] if c["subjectWidth"] is not None)
    assert subject > 160, seen["cells"][:12]  # some 20 characters

    link = john.get_by_role("link", name=LONG_SUBJECT)
    expect(link).to_have_attribute("title", LONG_SUBJECT)
    subject_cell = john.locator("#queue-rows td.subject").filter(has=link)
    assert subject_cell.evaluate("td => td.scrollWidth > td.clientWidth")  # shortened, not wrapped
    assert "Jane Doe" in john.locator("#queue-rows td.col-assignee").first.inner_text()


@pytest.mark.parametrize("density", ["comfortable", "compact"])
def test_every_row_says_how_long_is_left_or_overdue_with_the_exact_time_on_hover(desk, site, john: Page, density):
    Agent.objects.filter(pk=desk.jane.pk).update(density=density)
    john.set_viewport_size({"width": 1366, "height": 900})
    john.goto(site.url + "/staff/queues/all/")
    expect(john.locator("#queue-rows tr")).to_have_count(3)

    seen = john.evaluate(MEASURE)
    assert_one_line_per_cell(seen, 1366)
    shown = due_cells(seen)
    assert "23 h overdue" in shown and "Paused" in shown, shown
    assert any(re.fullmatch(r"in \d+ min", text) for text in shown), shown  # the first response, 45 min
    late_cell = john.locator("#queue-rows td.col-due time.due-overdue")
    expect(late_cell).to_have_attribute("title", re.compile(r"^First response due: \w+day \d+ \w+ \d{4}, \d\d:\d\d"))
    expect(john.locator("#queue-rows td.col-due .due-paused")).to_have_attribute(
        "title", "Paused: waiting on the customer"
    )


def assert_one_line_per_cell(seen: dict, width: int) -> None:
    assert not seen["wrapClipped"] and seen["tableRight"] <= width, {k: v for k, v in seen.items() if k != "cells"}
    assert [c for c in seen["cells"] if c["wrapped"]] == []
    assert [c for c in seen["cells"] if c["clipped"]] == []
    subject = min(c["subjectWidth"] for c in seen["cells"] if c["subjectWidth"] is not None)
    assert subject > 160, seen["cells"][:12]


@pytest.mark.parametrize("width, height", SCREENS)
def test_compact_rows_are_shorter_and_still_one_line_per_cell(desk, site, john: Page, width, height):
    john.set_viewport_size({"width": width, "height": height})
    john.goto(site.url + "/staff/queues/all/?sort=subject")
    expect(john.locator("#queue-rows tr")).to_have_count(3)
    comfortable = john.evaluate(MEASURE)
    assert_one_line_per_cell(comfortable, width)
    queue_url = john.url

    john.get_by_role("button", name="Compact rows").click()

    expect(john.locator("body")).to_have_class("staff density-compact")
    assert john.url == queue_url  # back where the agent was
    expect(john.get_by_role("button", name="Comfortable rows")).to_be_visible()
    compact = john.evaluate(MEASURE)
    assert_one_line_per_cell(compact, width)
    assert max(compact["rowHeights"]) < min(comfortable["rowHeights"]) - 8, (compact["rowHeights"], comfortable)
    assert Agent.objects.get(pk=desk.jane.pk).density == "compact"

    john.get_by_role("button", name="Comfortable rows").click()
    expect(john.locator("body")).to_have_class("staff")
    assert john.evaluate(MEASURE)["rowHeights"] == comfortable["rowHeights"]
