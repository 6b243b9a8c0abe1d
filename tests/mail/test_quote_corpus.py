"""Replies from real clients' shapes, in ten languages, top- and bottom-posted: what ingest keeps
is exactly what the customer wrote (tests/mail/quote_corpus, scored by `python -m bench.quotes`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.quotes import CORPORA, check
from tessera.mail.quotes import strip_quoted

SAMPLES = [p for corpus in CORPORA for p in sorted(corpus.glob("*.eml")) if p.with_suffix(".expected.txt").exists()]


def test_the_corpus_covers_every_language_and_both_ways_of_replying():
    names = " ".join(p.stem for p in SAMPLES)
    for lang in ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "ru", "ja", "zh"):
        assert f"top-{lang}-" in names
    assert names.count("bottom-") >= 5
    assert len(SAMPLES) >= 70


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_a_reply_keeps_exactly_what_the_customer_wrote(path):
    sample = check(path)
    assert sample.safe, f"customer's words were removed: kept {sample.kept!r}"
    assert sample.exact, f"quoted history left in: kept {sample.kept!r}, want {sample.expected!r}"


HEADERS = [
    "On Mon, Apr 2, 2012 at 2:20 PM Example Support <\nsupport@example.com> wrote:",
    '02.04.2012 14:20 пользователь "support@example.com" <\nsupport@example.com> написал:',
    "Example Support <support@example.com> 于2012年4月2日周一\n下午2:20写道：",
    "2012年4月2日(月) 14:20 Example Support <\nsupport@example.com>:",
]
# Words a customer writes: no line starts a quotation or a header of its own.
WORDS = st.text(alphabet=st.characters(categories=["L", "N", "Zs"], exclude_characters="\r\n\x0b\x0c"), max_size=60)


@given(lines=st.lists(WORDS, min_size=1, max_size=6), header=st.sampled_from(HEADERS))
def test_no_line_the_customer_wrote_above_the_quote_is_ever_removed(lines, header):
    text = "\n".join(lines) + "\n" + header + "\n> -- Reply above this line --\n> Hello\n"
    kept = strip_quoted(text, "", "-- Reply above this line --").text
    for line in lines:
        assert line.strip() in kept
