"""The markup drawn in Python (tessera/fast_html.py) is the markup its Django template twin
would draw, and hostile values stay text: each generator is fed quotes, <script>, event
handlers and javascript: URLs and compared with the template, whitespace-normalised."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from tessera import fast_html
from tessera.accounts.models import Team, User
from tessera.search.index import MARK_END, MARK_START
from tessera.staff.access import previewable
from tessera.tickets.content import link_inline_images
from tessera.tickets.event_sentences import event_sentence
from tessera.tickets.models import Attachment, EntryKind, Event, EventKind, ThreadEntry, Ticket
from tessera.tickets.quote_folding import fold_quotes

SCRIPT = '"><script>alert(1)</script>'
HANDLER = "x\" onmouseover=\"alert('1')\" data-y='"
JS_URL = "javascript:alert(document.cookie)"
HOSTILE = [SCRIPT, HANDLER, JS_URL, "<img src=x onerror=alert(1)>", "Tom & \"Jerry\" <'both'>"]
WHEN = datetime(2026, 3, 14, 9, 26, tzinfo=UTC)
TWINS = Path(__file__).parent / "fast_html_twins"  # the Django templates the generators replace


def twin(name: str) -> str:
    return (TWINS / name).read_text()


def normalised(html: str) -> str:
    """Whitespace between tags, and runs of it elsewhere, do not count."""
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html.strip())).replace("> ", ">").replace(" <", "<")


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def assert_inert(html: str) -> None:
    """No hostile value became live markup: no tag or attribute of theirs, no URL of theirs."""
    assert "<script" not in html and "<img src=x" not in html
    assert '" onmouseover="' not in html and "' onmouseover='" not in html
    assert 'href="javascript:' not in html and 'src="javascript:' not in html and 'value="javascript:' not in html


# ---------------------------------------------------------------------------- escaping helper


@pytest.mark.parametrize("value", HOSTILE)
def test_the_one_escaping_helper_escapes_like_the_template_engine(value):
    assert fast_html.esc(value) == render("{{ v }}", v=value)
    assert fast_html.attrs({"title": value, "hidden": True, "off": False}) == render(' title="{{ v }}" hidden', v=value)


# ---------------------------------------------------------------------------- the timeline

TIMELINE_TEMPLATE = twin("timeline.html")


def _timeline_rows(items, originals):
    from django.utils.safestring import mark_safe

    rows = []
    for item in items:
        if isinstance(item, Event):
            rows.append({"item": item, "is_event": True, "sentence": event_sentence(item)})
            continue
        body, inline = link_inline_images(
            fold_quotes(item.body_html), item.files, lambda f: reverse("staff:attachment", args=[f.pk])
        )
        files = [(f, previewable(f)) for f in item.files if f.pk not in inline]
        body = mark_safe(body)  # noqa: S308  sanitised on the way in, as the view does
        rows.append({"item": item, "body": body, "files": files, "original": originals.get(item.pk)})
    return rows


@pytest.mark.parametrize("value", HOSTILE)
def test_timeline_matches_its_template_and_keeps_hostile_values_as_text(value):
    event = Event(pk=1, kind=EventKind.PRIORITY, actor_name=value, before=value, after="High", created_at=WHEN)
    message = ThreadEntry(pk=2, kind=EntryKind.MESSAGE, author_name=value, body_html="<p>Hello</p>", created_at=WHEN)
    message.files = [
        Attachment(pk=3, name=value, size=2048, content_type="image/png"),
        Attachment(pk=4, name=f"{value}.svg", size=10, content_type="image/svg+xml"),
    ]
    note = ThreadEntry(
        pk=5, kind=EntryKind.NOTE, author_name="", body_html="<blockquote>old</blockquote><p>new</p>", created_at=WHEN
    )
    note.files = []
    reply = ThreadEntry(pk=6, kind=EntryKind.RESPONSE, author_name=value, body_html="", created_at=WHEN)
    reply.files = []
    items, originals = [event, message, note, reply], {2: 7}

    ours = str(fast_html.render_timeline(items, originals))
    theirs = render(TIMELINE_TEMPLATE, rows=_timeline_rows(items, originals))

    assert normalised(ours) == normalised(theirs)
    assert_inert(ours)
    assert 'class="thumb"' in ours and ours.count('class="thumb"') == 1  # the PNG, never the SVG
    assert "Show quoted text" in ours


# ---------------------------------------------------------------------------- queue rows

ROWS_TEMPLATE = twin("queue_rows.html")

COLUMNS = [(c, c) for c in ("user", "priority", "status", "assignee", "department", "topic", "source")] + [
    (c, c) for c in ("created", "updated", "due")
]


@pytest.mark.parametrize("arrived", [False, True])
def test_queue_rows_match_their_template_and_keep_hostile_values_as_text(desk, ken_ticket, arrived):
    User.objects.filter(pk=desk.ken.pk).update(name=SCRIPT)
    User.objects.filter(pk=desk.john.user_id).update(name=HANDLER)
    Team.objects.filter(pk=desk.ops.pk).update(name="<img src=x onerror=alert(1)>")
    Ticket.objects.filter(pk=ken_ticket.pk).update(
        subject=JS_URL + SCRIPT, assignee=desk.john, team=desk.ops, due_at=timezone.now() - timedelta(hours=1)
    )
    assigned = (
        Ticket.objects.select_related("user", "priority", "status", "assignee__user", "team", "department", "topic")
        .filter(pk=ken_ticket.pk)
        .first()
    )
    unassigned = Ticket(**{f.attname: getattr(assigned, f.attname) for f in Ticket._meta.concrete_fields})
    unassigned.pk, unassigned.assignee, unassigned.team, unassigned.due_at = assigned.pk + 1, None, None, None
    team_only = Ticket(**{f.attname: getattr(assigned, f.attname) for f in Ticket._meta.concrete_fields})
    team_only.pk, team_only.assignee = assigned.pk + 2, None
    tickets = [assigned, unassigned, team_only]
    for t, overdue in zip(tickets, (True, False, False), strict=True):
        t.cursor, t.is_overdue = HANDLER, overdue
        # A custom field's column: a hostile answer, a harmless one and none.
        t.custom_cells = {"cf_office": SCRIPT if overdue else ("Berlin & Lisbon" if t is unassigned else "")}
    columns = [*COLUMNS, ("cf_office", "Office")]

    ours = str(fast_html.render_rows(tickets, columns, arrived=arrived))
    theirs = render(ROWS_TEMPLATE, tickets=tickets, columns=columns, arrived=arrived)

    assert normalised(ours) == normalised(theirs)
    assert_inert(ours)


# ---------------------------------------------------------------------------- {% options %}

OPTIONS_TEMPLATE = twin("options.html")


@pytest.mark.parametrize("selected", [2, "none", [1, 2], None, SCRIPT])
def test_options_match_their_template_and_keep_hostile_values_as_text(selected):
    choices = [(1, SCRIPT), (2, HANDLER), ("none", JS_URL), (SCRIPT, "<img src=x onerror=alert(1)>")]
    chosen = selected if isinstance(selected, list) else [selected]

    ours = str(fast_html.render_options(choices, selected))
    theirs = render(OPTIONS_TEMPLATE, choices=choices, chosen=chosen)

    assert ours == theirs
    assert_inert(ours)


def test_the_options_tag_draws_the_same_as_the_function():
    html = render("{% load staff_tags %}{% options choices 1 %}", choices=[(1, SCRIPT)])
    assert html == str(fast_html.render_options([(1, SCRIPT)], 1))


# ---------------------------------------------------------------------------- search highlights

MARKED_TEMPLATE = twin("search_marks.html")


@pytest.mark.parametrize("value", HOSTILE)
def test_search_marks_match_their_template_and_keep_hostile_values_as_text(value):
    fts = f"{value} before {MARK_START}{value}{MARK_END} after {MARK_START}printer{MARK_END}"
    parts = [(value + " before ", False), (value, True), (" after ", False), ("printer", True)]

    ours = str(fast_html.fts_marked(fts))

    assert ours == render(MARKED_TEMPLATE, parts=parts)
    assert_inert(ours)


def test_an_unbalanced_mark_is_dropped_rather_than_left_open():
    assert str(fast_html.fts_marked(f"{MARK_START}{SCRIPT}")) == render("{{ v }}", v=SCRIPT)
    assert str(fast_html.fts_marked(None)) == ""


# ---------------------------------------------------------------------------- times


def test_a_time_element_escapes_its_zone_and_text():
    html = str(fast_html.time_element(WHEN))
    assert html.startswith('<time datetime="2026-03-14T') and html.endswith("</time>")
    assert fast_html.time_element(None) == ""


@pytest.fixture
def in_berlin_at_when(monkeypatch):
    """The viewer is in Berlin (UTC+1 in March), and it is WHEN: Saturday 14 March 2026, 10:26 there."""
    monkeypatch.setattr(timezone, "now", lambda: WHEN)
    with timezone.override("Europe/Berlin"):
        yield


def _shown(value: datetime) -> str:
    return re.sub(r"<[^>]+>", "", str(fast_html.time_element(value)))


@pytest.mark.parametrize(
    "value, shown",
    [
        (WHEN - timedelta(seconds=30), "just now"),
        (WHEN + timedelta(seconds=30), "just now"),
        (WHEN - timedelta(minutes=1), "1 min ago"),
        (WHEN - timedelta(minutes=12), "12 min ago"),
        (WHEN + timedelta(minutes=45), "in 45 min"),
        (datetime(2026, 3, 14, 5, 5, tzinfo=UTC), "today 06:05"),
        (datetime(2026, 3, 14, 17, 0, tzinfo=UTC), "today 18:00"),  # the minutes stay: never "6 p.m."
        (datetime(2026, 3, 13, 23, 30, tzinfo=UTC), "today 00:30"),  # already the 14th in Berlin
        (datetime(2026, 3, 13, 15, 5, tzinfo=UTC), "yesterday 16:05"),
        (datetime(2026, 3, 15, 8, 0, tzinfo=UTC), "tomorrow 09:00"),
        (datetime(2026, 3, 3, 15, 5, tzinfo=UTC), "3 Mar 16:05"),
        (datetime(2026, 11, 20, 8, 0, tzinfo=UTC), "20 Nov 09:00"),
        (datetime(2025, 12, 3, 15, 5, tzinfo=UTC), "3 Dec 2025"),
    ],
)
def test_every_time_is_shown_relative_to_now_in_the_viewers_zone(in_berlin_at_when, value, shown):
    assert _shown(value) == shown


def test_the_tooltip_and_datetime_carry_the_exact_time_in_the_viewers_zone(in_berlin_at_when):
    html = str(fast_html.time_element(datetime(2025, 12, 3, 15, 5, tzinfo=UTC)))
    assert html.startswith('<time datetime="2025-12-03T16:05:00+01:00" title="Wednesday 3 December 2025, 16:05 CET">')


def test_the_same_time_reads_differently_as_the_clock_moves(monkeypatch):
    posted = WHEN - timedelta(minutes=5)
    with timezone.override(UTC):  # whatever zone an earlier test's request left behind
        monkeypatch.setattr(timezone, "now", lambda: WHEN)
        assert _shown(posted) == "5 min ago"
        monkeypatch.setattr(timezone, "now", lambda: WHEN + timedelta(days=1))
        assert _shown(posted) == "yesterday 09:21"  # not the cached "5 min ago"


def test_the_queue_and_the_ticket_page_show_a_time_alike(in_berlin_at_when):
    value = datetime(2026, 3, 13, 15, 5, tzinfo=UTC)
    assert render("{% load staff_tags %}{% when v %}", v=value) == str(fast_html.time_element(value))
