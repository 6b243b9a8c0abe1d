"""Plain typed text skips markdown-it and nh3 (issue 13) and still comes out byte for byte as the
full path would draw it; anything that might be Markdown still goes through the full path."""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tessera.tickets import content

BENCH_MESSAGE = "The monitoring system saw /var at 93 % for ten minutes.\nPlease have a look."


def full_path(text: str) -> str:
    """What from_text returned before the fast path: markdown-it, then nh3."""
    return content.clean_html(content._markdown.render(text))


def prepared(raw: str) -> str:
    """The text from_text hands to either path."""
    return raw.replace("\r\n", "\n").strip()


def assert_same_as_full_path(raw: str) -> bool:
    """from_text gives what the full path gives; returns whether the fast path took it."""
    text = prepared(raw)
    expected = full_path(text)
    assert content.from_text(raw) == (expected, text), repr(raw)
    fast = content._plain_text_html(text)
    if fast is not None:
        assert fast == expected, repr(raw)
    return fast is not None


@pytest.fixture
def no_full_path(monkeypatch):
    """Fails the test if markdown-it or nh3 is asked for anything."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the full path was taken")

    monkeypatch.setattr(content._markdown, "render", refuse)
    monkeypatch.setattr(content, "clean_html", refuse)


# ---------------------------------------------------------------------------- examples


def test_the_bench_message_takes_the_fast_path(no_full_path):
    html, text = content.from_text(BENCH_MESSAGE)

    assert html == "<p>The monitoring system saw /var at 93 % for ten minutes.<br>\nPlease have a look.</p>\n"
    assert text == BENCH_MESSAGE


def test_plain_paragraphs_lines_and_punctuation_take_the_fast_path(no_full_path):
    typed = (
        'Hi team,\r\n\r\nThe printer on floor 2 says "paper jam" & won\'t print > 3 pages.\r\n'
        "Since 2024-03-01 it's worse (about 50 %).\r\n\r\n\r\n\r\nThanks, Zoë 👍"
    )

    html, text = content.from_text(typed)

    assert html == (
        "<p>Hi team,</p>\n"
        '<p>The printer on floor 2 says "paper jam" &amp; won\'t print &gt; 3 pages.<br>\n'
        "Since 2024-03-01 it's worse (about 50 %).</p>\n"
        "<p>Thanks, Zoë 👍</p>\n"
    )
    assert text == typed.replace("\r\n", "\n")


def test_empty_text_takes_the_fast_path(no_full_path):
    assert content.from_text("  \r\n ") == ("", "")


def test_multi_paragraph_text_matches_the_full_path():
    typed = "First paragraph.\nStill the first.\n\nSecond one.\n\n\n\nThird, after several blank lines."

    assert assert_same_as_full_path(typed)
    assert content.from_text(typed)[0] == (
        "<p>First paragraph.<br>\nStill the first.</p>\n<p>Second one.</p>\n<p>Third, after several blank lines.</p>\n"
    )


@pytest.mark.parametrize(
    ("typed", "rendered"),
    [
        ("**bold**", "<p><strong>bold</strong></p>\n"),
        ("*em* and _em_", "<p><em>em</em> and <em>em</em></p>\n"),
        ("1. item", "<ol>\n<li>item</li>\n</ol>\n"),
        ("3) item", "<ol>\n<li>item</li>\n</ol>\n"),  # nh3 drops start="3"
        ("- item", "<ul>\n<li>item</li>\n</ul>\n"),
        ("+ item", "<ul>\n<li>item</li>\n</ul>\n"),
        ("# head", "<h1>head</h1>\n"),
        ("Head\n===", "<h1>Head</h1>\n"),
        ("Head\n---", "<h2>Head</h2>\n"),
        ("a\n\n***", "<p>a</p>\n<hr>\n"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>\n"),
        ("a\n    code", "<p>a<br>\ncode</p>\n"),  # an indented line after a paragraph continues it
        ("a\n\n    code", "<p>a</p>\n<pre><code>code\n</code></pre>\n"),
        ("a `code` b", "<p>a <code>code</code> b</p>\n"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
        (
            "<https://example.com>",
            '<p><a href="https://example.com" rel="noopener noreferrer nofollow">https://example.com</a></p>\n',
        ),
        ("&amp; and &#35; and &copy;", "<p>&amp; and # and ©</p>\n"),
        ("R&D", "<p>R&amp;D</p>\n"),
        ("a  \nb", "<p>a<br>\nb</p>\n"),  # a hard break
        ("a \nb", "<p>a<br>\nb</p>\n"),
        ("a\\\nb", "<p>a<br>\nb</p>\n"),
        ("a \\*b\\*", "<p>a *b*</p>\n"),
        ("[x](https://example.com)", '<p><a href="https://example.com" rel="noopener noreferrer nofollow">x</a></p>\n'),
        ("a\tb", "<p>a\tb</p>\n"),
        ("a\u00a0b", "<p>a&nbsp;b</p>\n"),
        ("a\x00b", "<p>a\ufffdb</p>\n"),
        ("a\rb", "<p>a<br>\nb</p>\n"),
        ("a\n b", "<p>a<br>\nb</p>\n"),
        ("~~~\nx\n~~~", "<pre><code>x\n</code></pre>\n"),
    ],
)
def test_markdown_and_special_characters_take_the_full_path_and_render_as_before(typed, rendered):
    text = prepared(typed)

    assert content._plain_text_html(text) is None
    assert content.from_text(typed) == (rendered, text)


@pytest.mark.parametrize(
    "typed",
    [
        "1. item",
        "10) item",
        "123456789. item",
        "3.5 % of the disk",  # conservative: a line opening with digits and "." is not told from a list
        " indented",
        "a\n  b",
        "a\n\n \nb",
        "a \nb",  # conservative: a space before a break is dropped, two make a hard break
        "a  \nb",
        "a\tb",
        "snake_case",
        "a|b",
        "a ~ b",
        "a ^ b",
        "{a}",
        "a & b&c",
        "a &#35; b",
        "a *b* c",
        "a **b** c",
        "a _b_ c",
        "a `b` c",
        "a [b] c",
        "a ~~b~~ c",
        "a <b> c",
        "a \\* c",
        "a ![b](c)",
        "a\u2028b",  # a line separator to str.splitlines, not to Markdown
        "a\u200bb",
        "a\ufeffb",
        "a\x85b",
        "a\x1cb",
        "a\ud800b",
        "a\ue000b",
        "a\U000e0001b",
        "a\rb",
        "a\x0bb",
        "a\x0cb",
    ],
)
def test_the_whitelist_refuses_what_it_cannot_vouch_for(typed):
    assert content._plain_text_html(typed) is None


# ---------------------------------------------------------------------------- exhaustive


def test_every_short_string_of_ascii_characters_matches_the_full_path():
    """Every pair of ASCII characters, at the start of the text, of a later line, inside and at
    the end of a line; and every string of up to four characters from the ones that decide line
    shapes or open something inline (digits, "." and ")", spaces, breaks, "&", ">", "#", "-", "=",
    emphasis, code, links, "<", backslash, "~", "!")."""
    ascii_chars = [chr(code) for code in range(128)]
    taken = 0
    for first, second in itertools.product(ascii_chars, repeat=2):
        pair = first + second
        for typed in (pair + "z", "y\n" + pair + "z", "y" + pair + "z", "y" + pair, "y\n\n" + pair):
            if content._plain_text_html(prepared(typed)) is not None:
                taken += assert_same_as_full_path(typed)
    tricky = "a1.) \n&>#-=*_`[]<\\~!("  # fmt: skip
    for size in range(1, 5):
        for chars in itertools.product(tricky, repeat=size):
            piece = "".join(chars)
            for typed in (piece, "y" + piece + "z", "y\n" + piece + "z"):
                if content._plain_text_html(prepared(typed)) is not None:
                    taken += assert_same_as_full_path(typed)
    assert taken > 10_000  # the whitelist is not so narrow that this checks nothing


def test_every_character_beyond_ascii_the_fast_path_admits_matches_the_full_path():
    admitted = [chr(code) for code in range(0x80, 0x110000) if content._plain_text_html("a" + chr(code)) is not None]

    assert {"é", "ß", "Ж", "中", "’", "«", "€", "😀", "\u0301", "²"} <= set(admitted)
    for refused in "\x85\xa0\xad\u1680\u2000\u2028\u2029\u200b\u200e\u3000\ufeff\ue000\ufdd0\uffff\U0010ffff":
        assert refused not in admitted
    assert not any(char.isspace() for char in admitted)  # strip() cannot eat into admitted text
    assert {unicodedata.category(char)[0] for char in admitted} == set("LMNPS")
    # Every admitted character at the start, inside and at the end of a line, in a few paragraphs.
    lines = [
        ("x" if number % 2 else "") + "".join(admitted[start : start + 50])
        for number, start in enumerate(range(0, len(admitted), 50))
    ]
    text = "".join(line + ("\n\n" if number % 7 == 6 else "\n") for number, line in enumerate(lines)).strip()

    assert content._plain_text_html(text) is not None
    assert content._plain_text_html(text) == full_path(text)


# ---------------------------------------------------------------------------- properties

SPECIAL = (
    "*", "_", "`", "~", "[", "]", "(", ")", "<", ">", "&", "&amp;", "&#35;", "&#x41;", "&copy;", "&nosuch;",
    "\\", "|", "{", "}", "^", "!", "![", "#", "##", "+", "-", "=", "===", "---", "***", ".", "1.", "2)",
    "10.", "\t", "\xa0", "\u2003", "\u2028", "\u200b", "\ufeff", "\x00", "\r", "\r\n", "\x0b", "\x0c",
    "\x1c", "\x85", " ", "  ", "    ", "\n", "\n\n", "\n ", "\n    ", " \n", "  \n", '"', "'", ":", "@",
    "%", "$", "/", "é", "’", "😀", "\u0301", "http://example.com/a?b=c", "a@example.com",
)  # fmt: skip
WORDS = (
    "The", "printer", "on", "floor", "2", "jams", "again", "please", "help", "93", "disk", "at", "%",
    "Zoë", "Grüße", "日本", "it's", '"quoted"', "(aside)", "e-mail", "C#", "x=1", "a+b", "a > b",
    "Tom & Jerry", "2024-03-01", "12:30", "/var/log", "$5", "€5", "wait!", "why?", "ok.", "ok,", "1,000",
)  # fmt: skip

hostile = st.lists(st.one_of(st.sampled_from(SPECIAL), st.sampled_from(WORDS), st.text(max_size=3)), max_size=25).map(
    "".join
)
# Plain words with now and then one special piece between them: the near misses.
near_plain = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(WORDS), st.sampled_from(WORDS), st.sampled_from(WORDS), st.sampled_from(SPECIAL)),
        st.sampled_from(["", " ", " ", "\n", "\n\n"]),
    ),
    min_size=1,
    max_size=15,
).map(lambda pieces: "".join(piece + gap for piece, gap in pieces))


@st.composite
def sentences(draw: st.DrawFn) -> str:
    """Realistic plain messages: words, spaces, line breaks and paragraphs, maybe padded."""
    paragraphs = []
    for _paragraph in range(draw(st.integers(1, 4))):
        lines = []
        for _line in range(draw(st.integers(1, 4))):
            words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12))
            if words[0][0] in "\"'(/$%":  # a line starts with a letter or a number, as prose does
                words.insert(0, "Note")
            lines.append(" ".join(words))
        paragraphs.append("\n".join(lines))
    gap = draw(st.sampled_from(["\n\n", "\n\n\n", "\r\n\r\n"]))
    return draw(st.sampled_from(["", " ", "\n"])) + gap.join(paragraphs) + draw(st.sampled_from(["", "\n", "  "]))


@settings(max_examples=1500, deadline=None)
@given(st.one_of(hostile, near_plain))
def test_whatever_the_fast_path_takes_it_draws_as_the_full_path_would(typed):
    event("fast path" if assert_same_as_full_path(typed) else "full path")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_unicode_text_comes_out_as_before(typed):
    assert_same_as_full_path(typed)


@settings(max_examples=500, deadline=None)
@given(sentences())
def test_plain_sentences_take_the_fast_path_and_draw_as_the_full_path_would(typed):
    assert assert_same_as_full_path(typed)
