"""The search box's language: what each kind of input becomes, and that nothing breaks it."""

from __future__ import annotations

import pytest

from tessera.search.syntax import MAX_TERMS, Term, parse_query


def test_words_are_and_ed():
    assert parse_query("printer jams").clauses == ((Term(("printer",)), Term(("jams",))),)


def test_quotes_make_a_phrase_and_punctuation_splits_words():
    assert parse_query('"Paper jam"').clauses == ((Term(("paper", "jam")),),)
    assert parse_query("ken@example.com").clauses == ((Term(("ken", "example", "com")),),)


def test_or_either_case_and_and_is_implicit():
    assert parse_query("a OR b or c").clauses == ((Term(("a",)),), (Term(("b",)),), (Term(("c",)),))
    assert parse_query("a AND b").clauses == ((Term(("a",)), Term(("b",))),)


def test_minus_excludes_and_a_trailing_star_is_a_prefix():
    [clause] = parse_query("print* -toner e-mail").clauses
    assert clause == (Term(("print",), prefix=True), Term(("toner",), negated=True), Term(("e", "mail")))


def test_a_clause_of_exclusions_alone_is_dropped():
    assert parse_query("-toner").is_empty
    assert parse_query("-toner OR paper").clauses == ((Term(("paper",)),),)


@pytest.mark.parametrize("garbage", ['"', "*)(", "", "   ", "OR", "- - -", "***", "&|!<>:", "\x00\x02"])
def test_input_without_words_is_empty(garbage):
    assert parse_query(garbage).is_empty


def test_engines_get_only_words_and_operators():
    parsed = parse_query("""x' OR '1'='1 "a\\" b* -c:* (d)""")
    assert parsed.to_tsquery() == "(('x')) | (('1' <-> '1') & ('a') & ('b':*) & !('c') & ('d'))"
    assert parsed.to_fts5() == '("x") OR (("1 1" AND "a" AND "b" * AND "d") NOT ("c"))'


def test_long_input_is_cut_to_a_bounded_query():
    parsed = parse_query(" ".join(f"w{i}" for i in range(100)))
    assert sum(len(c) for c in parsed.clauses) == MAX_TERMS
