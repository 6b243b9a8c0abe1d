"""Bad rules never hurt intake: invalid patterns are refused at save, slow ones are stopped."""

from __future__ import annotations

import logging
import time

from tessera.rules import engine
from tessera.tickets import services

EVIL = "(a|aa)+$"  # backtracks exponentially on "aaaa…!"


def test_a_catastrophic_pattern_times_out_counts_as_no_match_and_is_logged(make_rule, desk, caplog):
    rule = make_rule("evil", [("body", "regex", EVIL)], [("priority", desk.sev_a)])
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="tessera.rules.engine"):
        ticket = services.open_ticket(
            desk.ken, requester=desk.ken, subject="x", message="a" * 5000 + "!", topic=desk.general
        )
    assert time.perf_counter() - started < 2
    assert ticket.priority != desk.sev_a
    assert "timed out" in caplog.text
    rule.refresh_from_db()
    assert "took too long" in rule.last_error and rule.last_error_at is not None


def test_many_slow_patterns_share_one_time_budget_per_ticket(make_rule, desk):
    for n in range(20):
        make_rule(f"evil {n}", [("body", "regex", EVIL)], [("priority", desk.sev_a)])
    started = time.perf_counter()
    plan = engine.evaluate(engine.Sample(channel="web", body="a" * 5000 + "!"), engine.load())
    assert time.perf_counter() - started < engine.REGEX_BUDGET_SECONDS + 0.5
    assert not plan.applied and len(plan.problems) == 20


def test_the_textbook_nested_quantifier_is_stopped_too(make_rule, desk):
    make_rule("textbook", [("body", "regex", "(a+)+$")], [("priority", desk.sev_a)])
    started = time.perf_counter()
    plan = engine.evaluate(engine.Sample(channel="web", body="a" * 5000 + "!"), engine.load())
    assert time.perf_counter() - started < 1
    assert not plan.applied and "took too long" in next(iter(plan.problems.values()))


def test_long_text_is_matched_only_up_to_the_limit(make_rule, desk):
    make_rule("late word", [("body", "contains", "needle")], [("priority", desk.sev_a)])
    body = "x" * engine.TEXT_LIMIT + "needle"
    assert not engine.evaluate(engine.Sample(channel="web", body=body), engine.load()).applied
