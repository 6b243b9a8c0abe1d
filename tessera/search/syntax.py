"""The search box's small language, parsed into a structure that no engine ever sees raw.

What an agent may type (PostgreSQL's "websearch" conventions, plus prefixes):

    printer jams          tickets with both words
    "paper jam"           the phrase, words in that order
    printer OR scanner    either word ("or" works too)
    -toner                without the word (only next to at least one word to find)
    print*                words that start with "print"
    ken@example.com       any punctuation splits words, so this is the phrase "ken example com"

Everything else (parentheses, colons, ampersands, stray quotes or stars, SQL) is only
punctuation. A term is reduced to its words, the runs of letters and digits, and the engines
get queries built from those words alone: to_tsquery text on PostgreSQL, FTS5 phrase strings
on SQLite. Both indexes split text the same way (PostgreSQL's document is built from the same
letter-and-digit runs; FTS5's unicode61 tokenizer splits on the rest), so a query means the same
on both databases and no input can be a syntax error for either.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_QUERY_CHARS = 256
MAX_TERMS = 16
MAX_WORD_CHARS = 100
# Letters and digits; underscore and everything else separate words.
WORD_RE = re.compile(r"[^\W_]+")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def words_of(text: str) -> tuple[str, ...]:
    """The searchable words in `text`, lower-cased, as both indexes see them."""
    text = unicodedata.normalize("NFC", text).lower()
    return tuple(w[:MAX_WORD_CHARS] for w in WORD_RE.findall(text))


@dataclass(frozen=True)
class Term:
    """One thing to look for: a word or a phrase (its words in order)."""

    words: tuple[str, ...]
    prefix: bool = False  # the last word is a prefix
    negated: bool = False

    def to_tsquery(self) -> str:
        # Each word is letters and digits only, so it needs no quoting; quoting anyway keeps a
        # word such as "or" from ever being read as an operator.
        parts = [f"'{w}'" for w in self.words]
        if self.prefix:
            parts[-1] += ":*"
        text = " <-> ".join(parts)
        return f"!({text})" if self.negated else f"({text})"

    def to_fts5(self) -> str:
        # A double-quoted FTS5 string is tokenized as plain text: words only, no operators.
        phrase = '"' + " ".join(self.words) + '"'
        return phrase + " *" if self.prefix else phrase


@dataclass(frozen=True)
class ParsedQuery:
    """OR of clauses, each an AND of terms with at least one term that is not negated
    (a query of exclusions alone would have to read every document)."""

    clauses: tuple[tuple[Term, ...], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.clauses

    @property
    def positive_terms(self) -> list[Term]:
        return [t for clause in self.clauses for t in clause if not t.negated]

    def to_tsquery(self) -> str:
        """Text for PostgreSQL's to_tsquery('simple', …), built from words only."""
        return " | ".join("(" + " & ".join(t.to_tsquery() for t in clause) + ")" for clause in self.clauses)

    def to_fts5(self) -> str:
        """An FTS5 MATCH expression. FTS5's NOT is binary, so each clause is
        (wanted AND wanted) NOT (unwanted OR unwanted)."""
        out = []
        for clause in self.clauses:
            wanted = " AND ".join(t.to_fts5() for t in clause if not t.negated)
            unwanted = " OR ".join(t.to_fts5() for t in clause if t.negated)
            out.append(f"(({wanted}) NOT ({unwanted}))" if unwanted else f"({wanted})")
        return " OR ".join(out)


_OR = object()


def parse_query(text: str) -> ParsedQuery:
    """Read what was typed into the search box. Never raises: what cannot be used is dropped,
    and a query with nothing left to look for is empty (the page then says what to type)."""
    text = _CONTROL_RE.sub(" ", (text or "")[:MAX_QUERY_CHARS])
    tokens: list[Term | object | None] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = text[i] == "-" and i + 1 < n and not text[i + 1].isspace()
        if negated:
            i += 1
        if text[i] == '"':
            end = text.find('"', i + 1)
            end = n if end == -1 else end
            body, i = text[i + 1 : end], end + 1
            prefix = i < n and text[i] == "*"
            tokens.append(_term(body, prefix=prefix or body.rstrip().endswith("*"), negated=negated))
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != '"':
            i += 1
        chunk = text[start:i]
        if not negated and chunk.lower() == "or":
            tokens.append(_OR)
        elif not negated and chunk.lower() == "and":
            continue  # AND is what two terms mean anyway
        else:
            tokens.append(_term(chunk, prefix=_ends_with_star(chunk), negated=negated))

    clauses: list[tuple[Term, ...]] = []
    current: list[Term] = []
    budget = MAX_TERMS
    for token in [*tokens, _OR]:
        if token is _OR:
            if any(not t.negated for t in current):
                clauses.append(tuple(current))
            current = []
        elif isinstance(token, Term) and budget > 0:
            current.append(token)
            budget -= 1
    return ParsedQuery(tuple(clauses))


def _ends_with_star(chunk: str) -> bool:
    """ "print*" and "print*," are prefixes; "a*b" is two words."""
    stripped = chunk.rstrip()
    while stripped and not stripped[-1].isalnum() and stripped[-1] != "*":
        stripped = stripped[:-1]
    return stripped.endswith("*") and len(stripped) > 1 and stripped[-2].isalnum()


def _term(text: str, *, prefix: bool, negated: bool) -> Term | None:
    words = words_of(text)
    if not words:
        return None
    return Term(words, prefix=prefix, negated=negated)
