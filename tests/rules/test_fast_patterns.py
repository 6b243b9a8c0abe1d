"""Patterns answer as before when the engine skips IGNORECASE and pre-checks a literal: the
same rule matches the same tickets, and the preview still lists conditions in the written order."""

from __future__ import annotations

import itertools

import pytest
import regex

from tessera.rules import engine

PATTERNS = [
    r"\berror\s+\d+",
    r"^(re|fwd):\s*server",
    r"invoice.*(asap|urgent)",
    r"[a-z]+@error\.example",
    r"ab+c",
    r"colou?r",
    r"vpn|login",
    r"(?x) v p n",
    r"(\w+) \1",
    r"x{2}y",
    r"[^a-z]k",
    r"\x56PN",
    r"\p{upper}pn",
    r"VPN down",
    r"straße",
    r"stra(ss|ß)e",
    r"ki",
    r"\bis\b",
]
TEXTS = [
    "Error 42 on the VPN",
    "RE: Server down",
    "Invoice needed ASAP please",
    "mail Joe@Error.Example now",
    "abbbc and ABC",
    "COLOR and colour",
    "nothing to see",
    "Hello hello world",
    "XXY",
    "1K and the Kelvin sign K",
    "Die STRASSE ist gesperrt",
    "Die Straße ist gesperrt",
    "ſtraße KI İstanbul",
    "This IS it",
]


@pytest.mark.parametrize(("pattern", "text"), list(itertools.product(PATTERNS, TEXTS)))
def test_a_pattern_matches_a_ticket_exactly_when_it_did_with_ignorecase(pattern, text):
    reference = regex.compile(pattern, regex.IGNORECASE | regex.UNICODE).search(text.casefold()) is not None
    compiled, literal = engine.folded_pattern(pattern)
    condition = engine.CompiledCondition(0, "subject", "regex", pattern.casefold(), pattern, (), compiled, literal)
    assert engine._holds(condition, engine.Sample(channel="web", subject=text), engine._Clock()) is reference


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        (r"\berror\s+\d+", "error"),
        (r"^(re|fwd):\s*server", "server"),
        (r"[a-z]+@error\.example", "@error.example"),
        ("ab+c", "ab"),
        ("ab?c", "a"),
        ("vpn|login", ""),
        (r"(?x)v p n", ""),
        (r"x\g<1>yz", "yz"),
    ],
)
def test_the_literal_a_pattern_needs_is_never_more_than_it_needs(pattern, literal):
    assert engine.required_literal(pattern) == literal


def test_a_pattern_that_depends_on_case_keeps_ignorecase():
    for pattern in (r"\x56pn", r"\p{upper}", "VPN", "straße"):
        compiled, literal = engine.folded_pattern(pattern)
        assert compiled.flags & regex.IGNORECASE and literal == ""


def test_the_preview_lists_conditions_in_the_written_order_though_cheap_ones_run_first(make_rule):
    rule = make_rule("r", [("body", "regex", r"vpn\s+down"), ("subject", "equals", "x")])
    compiled = engine.compile_rule(rule, rule.conditions.all(), [])
    assert [c.operator for c in compiled.cheap_first] == ["equals", "regex"]
    result = engine.check(compiled, engine.Sample(channel="web", subject="y", body="vpn down"), every=True)
    assert result.conditions[0][0].startswith("message")
    assert not result.matched
