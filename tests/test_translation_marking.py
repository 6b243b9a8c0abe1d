"""Every word a person reads on a page or in a mail goes through the translation catalogue.

A template's literal text (outside `{% translate %}` / `{% blocktranslate %}`) and its
user-visible attributes (title, placeholder, aria-label, alt, a button's value) are checked:
after markup, comments, `{{ … }}`, entities, punctuation and the allow-list below are taken
away, no letters may remain. A string shipped unmarked would reach a German customer in English,
and makemessages would never offer it to a translator.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parent.parent

# Words that are the same in every language. Keep this short and say why for each.
ALLOWED_WORDS = {
    "Tessera",  # the product's name
    "osTicket",  # the other product's name
    "TOTP",  # a standard's name, shown beside its translated explanation
    "WebAuthn",  # a standard's name
    "CSV",  # a file format
    "JSON",  # a file format
    "API",  # a technical term used as-is in every shipped language
    "SLA",  # idem
    "URL",  # idem
    "ID",  # idem
}

# Text in tags whose content nobody reads as prose: code, styles, scripts.
NON_PROSE = re.compile(r"<(script|style|code|pre|kbd|svg)\b[^>]*>.*?</\1>", re.S | re.I)
COMMENT = re.compile(r"<!--.*?-->", re.S)
VISIBLE_ATTRIBUTE = re.compile(
    r"""\b(title|placeholder|aria-label|alt|aria-description)\s*=\s*("([^"]*)"|'([^']*)')""", re.I
)
BUTTON_VALUE = re.compile(r"""<input\b[^>]*\btype=["']?(submit|button|reset)["']?[^>]*>""", re.I)
VALUE_ATTRIBUTE = re.compile(r"""\bvalue\s*=\s*("([^"]*)"|'([^']*)')""", re.I)
TAG = re.compile(r"<[^>]*>")
ENTITY = re.compile(r"&#?\w+;")
WORD = re.compile(r"[^\W\d_]{2,}")
# Where a template tag's arguments hold a literal meant for a reader.
TRANSLATION_TAGS = {"translate", "trans", "blocktranslate", "blocktrans"}
END_TRANSLATION = {"endblocktranslate", "endblocktrans", "plural"}


def template_files() -> list[Path]:
    dirs = [ROOT / "templates", *sorted((ROOT / "tessera").glob("*/templates"))]
    files: list[Path] = []
    for directory in dirs:
        files += sorted(p for p in directory.rglob("*") if p.suffix in {".html", ".txt"})
    return files


def words(text: str) -> list[str]:
    text = ENTITY.sub(" ", text)
    return [w for w in WORD.findall(text) if w not in ALLOWED_WORDS]


def literal_text(source: str) -> str:
    """The template with everything Django would translate or fill in replaced by a blank."""
    out: list[str] = []
    hidden = 0  # inside a blocktranslate, a {% comment %}, or a block that fills a class attribute
    blocks: list[bool] = []  # for each open {% block %}: does it hide its text?
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            bits = token.contents.split()
            name = bits[0] if bits else ""
            if name in {"blocktranslate", "blocktrans", "comment"}:
                hidden += 1
            elif name in {"endblocktranslate", "endblocktrans", "endcomment"}:
                hidden -= 1
            elif name == "block":
                blocks.append(len(bits) > 1 and bits[1].endswith("class"))
                hidden += blocks[-1]
            elif name == "endblock" and blocks:
                hidden -= blocks.pop()
            out.append(" \x00 ")  # a placeholder where a tag stood (an attribute value stays non-empty)
        elif token.token_type == TokenType.TEXT and not hidden:
            out.append(token.contents)
        else:
            out.append(" \x00 ")
    return "".join(out)


def unmarked(source: str) -> list[str]:
    text = COMMENT.sub(" ", literal_text(source))
    text = NON_PROSE.sub(" ", text)
    found: list[str] = []
    for match in VISIBLE_ATTRIBUTE.finditer(text):
        value = match.group(3) if match.group(3) is not None else match.group(4)
        found += words(value)
    for match in BUTTON_VALUE.finditer(text):
        value_match = VALUE_ATTRIBUTE.search(match.group(0))
        if value_match:
            found += words(value_match.group(2) or value_match.group(3) or "")
    found += words(TAG.sub(" ", text))
    return found


@pytest.mark.parametrize("path", template_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_word_a_reader_sees_in_a_template_is_marked_for_translation(path: Path) -> None:
    assert unmarked(path.read_text()) == [], f"{path.relative_to(ROOT)}: mark these with {{% translate %}}"


# The checker itself must be able to fail: it sees prose and visible attributes, and lets marked
# text, variables, code and the brand name through.
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<p>Hello {{ name }}</p>", ["Hello"]),
        ('<input title="Search tickets">', ["Search", "tickets"]),
        ('<button aria-label="Close">×</button>', ["Close"]),
        ('<input type="submit" value="Save">', ["Save"]),
        ('<input type="hidden" value="reply">', []),
        ('{% load i18n %}<p>{% translate "Hello" %} {{ name }}</p>', []),
        ("{% blocktranslate %}Hi {{ n }}{% endblocktranslate %}", []),
        ("<p>Tessera &mdash; {{ x }}</p><!-- a note -->", []),
        ('<script>const words = "never shown";</script>', []),
        ('<img alt="{% translate "Logo" %}">', []),
    ],
)
def test_the_marking_check_finds_unmarked_words(source: str, expected: list[str]) -> None:
    assert unmarked(source) == expected
