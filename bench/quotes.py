"""How much of a customer's emailed reply survives quote stripping, over tests/mail/quote_corpus.

Each sample is a real MIME message (NNN-name.eml, in tests/mail/quote_corpus and the replies of
tests/mail/corpus) with the customer's own words beside it (NNN-name.expected.txt;
NNN-name.expected-html.txt for the visible text of the HTML twin).
A sample is *exact* when what ingest keeps is those words and nothing else, and *safe* when
every line the customer wrote is still there. Safe must be 100 %; exact is the goal (≥ 95 %).

    python -m bench.quotes            # a line per sample that is not exact, then the shares
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from pathlib import Path

_MAIL_TESTS = Path(__file__).resolve().parent.parent / "tests" / "mail"
# The quote corpus, and the replies of the ingest corpus (those with the customer's words beside them).
CORPORA = (_MAIL_TESTS / "quote_corpus", _MAIL_TESTS / "corpus")
MARKER = "-- Reply above this line --"


@dataclass(frozen=True)
class Sample:
    name: str
    exact: bool
    safe: bool
    kept: str
    expected: str


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n")]


def _visible_text(html: str) -> str:
    from html import unescape

    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]*>", " ", html))).strip()


def check(path: Path) -> Sample:
    from tessera.mail.parse import parse
    from tessera.mail.quotes import strip_quoted

    parsed = parse(path.read_bytes())
    result = strip_quoted(parsed.text or "", parsed.html or "", MARKER)
    expected = path.with_suffix(".expected.txt").read_text(encoding="utf-8")
    kept, wanted = _lines(result.text), _lines(expected)
    exact = kept == wanted
    safe = all(line in kept for line in wanted if line.strip())
    html_expected = path.with_suffix(".expected-html.txt")
    if html_expected.exists():
        seen, goal = _visible_text(result.html), html_expected.read_text(encoding="utf-8").strip()
        exact = exact and seen == goal
        safe = safe and all(word in seen for word in goal.split())
    return Sample(path.stem, exact, safe, result.text, expected)


def score(corpora: tuple[Path, ...] = CORPORA) -> list[Sample]:
    return [
        check(path)
        for corpus in corpora
        for path in sorted(corpus.glob("*.eml"))
        if path.with_suffix(".expected.txt").exists()
    ]


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
    import django

    django.setup()
    samples = score()
    for s in samples:
        if not s.exact:
            print(f"{'UNSAFE' if not s.safe else 'inexact'}: {s.name}\n  kept: {s.kept!r}\n  want: {s.expected!r}")
    total = len(samples)
    exact = sum(s.exact for s in samples)
    safe = sum(s.safe for s in samples)
    print(f"{total} samples: {exact} exact ({100 * exact / total:.1f} %), {safe} safe ({100 * safe / total:.1f} %)")


if __name__ == "__main__":
    main()
