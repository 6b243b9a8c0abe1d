"""What people type becomes safe HTML once, on the way in, with a readable plain-text twin."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.tickets import content, services

from .helpers import entries

ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "<javascript:alert(1)>",
    '<svg onload="alert(1)"></svg>',
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<<script>script>alert(1)<</script>/script>",
]


class Markup(HTMLParser):
    """Collects what a browser would treat as live markup."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    handle_startendtag = handle_starttag

    @property
    def dangerous(self) -> list[str]:
        found = [t for t in self.tags if t in {"script", "style", "iframe", "object", "embed", "svg", "math"}]
        found += [name for name, _value in self.attrs if name.startswith("on") or name == "style"]
        found += [
            f"{name}={value}"
            for name, value in self.attrs
            if name in {"href", "src"} and (value or "").strip().lower().startswith(("javascript:", "vbscript:"))
        ]
        return found


def assert_safe(fragment: str) -> None:
    assert Markup(fragment).dangerous == [], fragment
    assert "<script" not in fragment.lower()


@pytest.mark.parametrize("attack", ATTACKS)
def test_nothing_that_could_run_survives_in_a_stored_message(desk, attack):
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject="Printer", message=f"Hello {attack} bye", topic=desk.general
    )

    [message] = entries(ticket)
    assert_safe(message.body_html)
    assert "Hello" in message.body_html and "bye" in message.body_html


@pytest.mark.parametrize("attack", ATTACKS)
def test_nothing_that_could_run_survives_in_a_stored_subject(desk, attack):
    ticket = services.open_ticket(
        desk.ken, requester=desk.ken, subject=f"Printer {attack} jams", message="Hi", topic=desk.general
    )

    ticket.refresh_from_db()
    assert_safe(ticket.subject)
    assert Markup(ticket.subject).tags == []
    assert ticket.subject.startswith("Printer") and ticket.subject.endswith("jams")


def test_script_typed_into_a_message_is_shown_as_text_not_run(desk):
    entry = services.reply(
        desk.john.user,
        services.open_ticket(desk.ken, requester=desk.ken, subject="Web", message="Hi", topic=desk.general),
        message="Your page contains <script>alert(1)</script>, remove it.",
    )

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in entry.body_html
    assert entry.body_text == "Your page contains <script>alert(1)</script>, remove it."


def test_the_text_twin_reads_like_what_was_typed(desk):
    typed = "Hi team,\r\n\r\nIt jams on **page two** & sometimes *three*.\r\n\r\n- tray 1\r\n- tray 2\r\n"

    html, text = content.from_text(typed)

    assert text == "Hi team,\n\nIt jams on **page two** & sometimes *three*.\n\n- tray 1\n- tray 2"
    assert "<strong>page two</strong>" in html and "&amp; sometimes <em>three</em>" in html


def test_markdown_renders_the_usual_formatting(desk):
    html, _text = content.from_text(
        "# Steps\n\n1. Open the tray\n2. Remove the paper\n\n`lpstat -t`\n\n"
        "> quoted line\n\nSee [the guide](https://example.com/guide)\nnext line"
    )

    assert "<h1>Steps</h1>" in html
    assert "<ol>" in html and "<li>Open the tray</li>" in html
    assert "<code>lpstat -t</code>" in html
    assert "<blockquote>" in html
    assert '<a href="https://example.com/guide" rel="noopener noreferrer nofollow">the guide</a>' in html
    assert "<br>" in html  # a single newline is a line break, as people expect in a help desk


def test_html_from_outside_keeps_formatting_and_loses_everything_that_runs():
    raw = (
        '<div onclick="steal()"><p style="color:red">Hello <b>Ken</b></p>'
        '<script>alert(1)</script><a href="javascript:x()">link</a>'
        '<a href="https://example.com">ok</a><table><tr><td colspan="2">cell</td></tr></table></div>'
    )

    html, text = content.from_html(raw)

    assert_safe(html)
    assert "<b>Ken</b>" in html and 'colspan="2"' in html
    assert 'href="https://example.com"' in html
    assert "alert" not in html and "steal" not in html
    assert text.splitlines()[0] == "Hello Ken"
    assert "alert" not in text


def test_a_subject_keeps_ordinary_punctuation_as_text():
    assert content.clean_line("Fish &amp; chips < 5 € & R&D > 3") == "Fish & chips < 5 € & R&D > 3"
    assert content.clean_line("<b>Bold</b> move") == "Bold move"


def test_escaped_markup_in_a_subject_does_not_come_back_to_life():
    assert content.clean_line("&lt;img src=x onerror=alert(1)&gt;Printer") == "Printer"
    assert content.clean_line("&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;Printer") == "Printer"


# ---------------------------------------------------------------------------- properties

FRAGMENTS = (
    "<", ">", "&", "&lt;", "&gt;", "&amp;", '"', "'", "=", " on", "onerror=", "onclick=", "javascript:",
    "<script>", "</script>", "<img src=x ", "<a href=", "[x](", ")", "](javascript:", "<svg ", "\n", "`",
    "*", "#", "<!--", "-->", "<![CDATA[", "&#x3C;", "&#60;", "\\", "<scr", "ipt>", "/",
)  # fmt: skip
html_ish = st.lists(st.one_of(st.text(max_size=20), st.sampled_from(FRAGMENTS)), max_size=30).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_ish)
def test_from_text_never_emits_a_script_or_an_event_handler(typed):
    html, _text = content.from_text(typed)

    assert "<script" not in html.lower()
    assert Markup(html).dangerous == []


@settings(max_examples=300, deadline=None)
@given(html_ish)
def test_from_html_never_emits_a_script_or_an_event_handler(raw):
    html, _text = content.from_html(raw)

    assert "<script" not in html.lower()
    assert Markup(html).dangerous == []


@settings(max_examples=300, deadline=None)
@given(html_ish)
def test_a_cleaned_subject_is_one_line_of_plain_text_that_stays_put(typed):
    line = content.clean_line(typed)

    assert "\n" not in line and line == line.strip()
    assert "<script" not in line.lower()
    assert Markup(line).tags == [] and Markup(line).attrs == []
    assert content.clean_line(line) == line  # cleaning twice changes nothing
