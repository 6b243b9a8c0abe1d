"""A subject or name of plain printable ASCII skips clean_line's markup loop and comes out the same.

The loop (strip tags, decode entities and encoded words, until nothing changes) hands such text
back unchanged, so the fast path may only ever differ from it by being faster: checked on
generated text of every printable ASCII character, markup included, and on hostile examples.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tessera.single_line import single_line
from tessera.tickets import content

PRINTABLE = string.printable  # ASCII letters, digits, punctuation and whitespace


def slow(text: str) -> str:
    return single_line(content._strip_markup(text))


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=PRINTABLE, max_size=40))
def test_any_printable_ascii_line_cleans_as_the_full_loop_cleans_it(text):
    assert content.clean_line(text) == slow(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=30))
def test_any_text_at_all_cleans_as_the_full_loop_cleans_it(text):
    assert content.clean_line(text) == slow(text)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Disk usage above 90% on host 17", "Disk usage above 90% on host 17"),
        ("  Printer   jams\ton page 2 ", "Printer jams on page 2"),
        ("<script>alert(1)</script>Hi", "Hi"),
        ("&lt;b&gt;bold&lt;/b&gt;", "bold"),
        ("R&D budget", "R&D budget"),
        ("a < b and c > d", "a < b and c > d"),
        ("=?utf-8?q?Hi=0D=0ABcc=3A_x=40evil?=", "Hi Bcc: x@evil"),
    ],
)
def test_plain_and_hostile_lines_clean_as_before(typed, kept):
    assert content.clean_line(typed) == kept == slow(typed)


def test_a_plain_line_does_not_run_the_markup_loop(monkeypatch):
    def refuse(text):
        raise AssertionError("the markup loop ran for plain text")

    monkeypatch.setattr(content, "_strip_markup", refuse)
    assert content.clean_line("Disk usage above 90% on host 17: /var (ext4)") == (
        "Disk usage above 90% on host 17: /var (ext4)"
    )
    with pytest.raises(AssertionError):
        content.clean_line("Q&A")
