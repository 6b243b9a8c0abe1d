"""Decide what the routing rules do to a new ticket, without touching the database.

Every new ticket runs through every active rule, so the rules are compiled once per process
(patterns compiled, values lower-cased, targets loaded) through `tessera.process_memo`: three
queries when a rule changed (forgotten at once in the process that saved it, within 30 s in the
others), none per ticket. `evaluate` returns a `Plan`; the ticket services apply it and write
the Events (tessera/tickets/services/rules_applied.py).

The text is folded once per ticket, so a pattern that cannot tell cases apart anyway (ASCII,
lower case, no escape that names a character or a class by case) runs without IGNORECASE, which
costs several times more, and first asks with a plain `in` whether the text holds the literal
run the pattern cannot match without. Cheap conditions are asked first when the answer alone
matters (the preview asks every condition, in the administrator's order).

Patterns run on the `regex` package with a time limit: a pattern that backtracks for ever
counts as not matching, is logged, and marks its rule, and intake goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import regex

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from tessera import process_memo
from tessera.accounts.models import Agent, Department, Team
from tessera.sla.models import SlaPlan
from tessera.tickets.models import HelpTopic, Priority, Source, Status

from .models import Action, ActionKind, Condition, Field, Match, Operator, Rule

log = logging.getLogger(__name__)

# The most of a message's text that conditions look at, and the time one pattern (and all the
# patterns of one ticket) may take before it counts as not matching.
TEXT_LIMIT = 20_000
REGEX_SECONDS = 0.05
REGEX_BUDGET_SECONDS = 0.25
FLAGS = regex.IGNORECASE | regex.UNICODE

# What a channel condition may name: the ticket sources, and the words people use for them.
CHANNEL_ALIASES = {"portal": Source.WEB.value, "agent": Source.STAFF.value, "staff": Source.STAFF.value}
NEGATIVE = (Operator.NOT_EQUALS, Operator.NOT_CONTAINS)
# How a compiled condition names a custom field: "cf:<key>" (Sample.custom holds the answers).
CUSTOM_PREFIX = "cf:"


def channel_value(text: str) -> str:
    """A channel as the rules compare it: the ticket source's code ("web", "email", …)."""
    word = text.strip().lower()
    return CHANNEL_ALIASES.get(word, word)


def channel_values() -> list[str]:
    return [choice.value for choice in Source]


def split_values(text: str) -> tuple[str, ...]:
    return tuple(part.strip().casefold() for part in text.replace("\n", ",").split(",") if part.strip())


def compile_pattern(text: str) -> regex.Pattern[str]:
    """Raises regex.error for a pattern that does not compile (the admin says so at save time)."""
    return regex.compile(text, FLAGS)


# Escapes and classes whose meaning depends on case (\x41, \p{upper}, [[:upper:]], octal), so a
# pattern holding one keeps IGNORECASE.
_CASE_SENSITIVE_PARTS = regex.compile(r"\\[0-9xuUpPN]|\[:")
_INLINE_FLAGS = regex.compile(r"\(\?[a-zA-Z^-]")


def folded_pattern(text: str) -> tuple[regex.Pattern[str], str]:
    """The pattern as it runs on folded text, and a literal the text must hold for it to match
    ("" when none is known). Raises regex.error like `compile_pattern`."""
    if not text.isascii() or text != text.lower() or _CASE_SENSITIVE_PARTS.search(text):
        return compile_pattern(text), ""
    return regex.compile(text, regex.UNICODE), required_literal(text)


def required_literal(pattern: str) -> str:
    """The longest run of plain characters outside any group that every match contains (""
    if the pattern has a top-level alternative or inline flags). Errs towards "" (no shortcut)."""
    if _INLINE_FLAGS.search(pattern):
        return ""
    best = ""
    run: list[str] = []
    depth = 0
    i = 0
    size = len(pattern)
    while i < size:
        ch = pattern[i]
        literal: str | None = None
        repeated = False
        if ch == "\\":
            escaped = pattern[i + 1 : i + 2]
            literal = escaped if depth == 0 and escaped and not escaped.isalnum() else None
            i += 2
            if escaped.isalnum() and pattern[i : i + 1] in ("<", "{"):  # \g<name>, \k<name>
                end = pattern.find(">" if pattern[i] == "<" else "}", i)
                i = size if end < 0 else end + 1
        elif ch == "[":
            i += 1
            if pattern[i : i + 1] == "^":
                i += 1
            if pattern[i : i + 1] == "]":
                i += 1
            while i < size and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
        elif ch == "{":
            end = pattern.find("}", i)
            i = size if end < 0 else end + 1
        elif ch in "()":
            depth += 1 if ch == "(" else -1
            i += 1
        elif ch == "|":
            if depth <= 0:
                return ""
            i += 1
        elif ch in ".^$*+?}":
            i += 1
        else:
            literal = ch if depth == 0 else None
            i += 1
        if literal is not None and i < size and pattern[i] in "*?{+":
            # Optional (or repeated: then the characters after it may not follow it directly).
            repeated = pattern[i] == "+"
            literal = literal if repeated else None
        if literal is not None:
            run.append(literal)
        if literal is None or repeated:
            if len(run) > len(best):
                best = "".join(run)
            run = []
    if len(run) > len(best):
        best = "".join(run)
    return best


@dataclass(frozen=True)
class Sample:
    """What the conditions look at, as text (names, not ids: rules are written in words)."""

    channel: str
    sender: str = ""
    recipients: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    topic: str = ""
    organization: str = ""
    priority: str = ""
    # Answers to custom fields given with the ticket, by key (a multiple choice: several texts).
    custom: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    folded: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def values(self, name: str) -> tuple[str, ...]:
        """The field's text as conditions compare it, folded once per ticket."""
        found = self.folded.get(name)
        if found is None:
            found = self.folded[name] = self._fold(name)
        return found

    def _fold(self, name: str) -> tuple[str, ...]:
        if name == Field.RECIPIENT:
            return tuple(r.strip().casefold() for r in self.recipients if r.strip())
        if name == Field.SENDER_DOMAIN:
            return (self.sender.rpartition("@")[2].strip().casefold(),)
        if name == Field.CHANNEL:
            return (channel_value(self.channel),)
        if name.startswith(CUSTOM_PREFIX):
            return tuple(v[:TEXT_LIMIT].casefold() for v in self.custom.get(name.removeprefix(CUSTOM_PREFIX), ()))
        text: str = getattr(self, name)
        return (text[:TEXT_LIMIT].casefold(),)


@dataclass(frozen=True)
class CompiledCondition:
    id: int
    field: str
    operator: str
    value: str
    raw: str
    choices: tuple[str, ...] = ()
    pattern: regex.Pattern[str] | None = None
    literal: str = ""  # a pattern cannot match text without it
    # The comparison as one call on a folded value (None for patterns, which need the clock), and
    # whether its answer is turned round ("does not …").
    predicate: Callable[[str], bool] | None = None
    negative: bool = False

    @property
    def cost(self) -> int:
        """Which conditions to ask first: exact comparisons, then substrings, then patterns."""
        if self.operator == Operator.REGEX:
            return 2
        return 1 if self.operator in (Operator.CONTAINS, Operator.NOT_CONTAINS) else 0

    def describe(self) -> str:
        if self.field.startswith(CUSTOM_PREFIX):
            what = _("custom field %(key)s") % {"key": self.field.removeprefix(CUSTOM_PREFIX)}
        else:
            what = str(Field(self.field).label)
        return f"{what} {Operator(self.operator).label} “{self.raw}”"


@dataclass(frozen=True)
class CompiledAction:
    kind: str
    target: Department | Priority | SlaPlan | Team | Agent | Status | HelpTopic | None = None
    text: str = ""

    def describe(self) -> str:
        kind = ActionKind(self.kind)
        if kind in (ActionKind.NO_AUTO_REPLY,):
            return str(kind.label)
        if kind == ActionKind.COLLABORATORS:
            return _("copy %(addresses)s") % {"addresses": ", ".join(addresses(self.text))}
        if kind == ActionKind.REJECT:
            return _("reject: %(reason)s") % {"reason": self.text} if self.text else str(kind.label)
        name = _target_name(self.target)
        return f"{kind.label}: {name}"


def _target_name(target: object) -> str:
    if target is None:
        return _("(deleted)")
    if isinstance(target, Agent):
        return target.name
    return str(target)


def addresses(text: str) -> list[str]:
    return [part.strip().lower() for part in text.replace("\n", ",").replace(";", ",").split(",") if part.strip()]


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    match_all: bool
    stop: bool
    conditions: tuple[CompiledCondition, ...]
    actions: tuple[CompiledAction, ...]
    cheap_first: tuple[CompiledCondition, ...] = ()  # the conditions in the order to ask them


@dataclass(frozen=True)
class Compiled:
    rules: tuple[CompiledRule, ...]
    fields: frozenset[str]  # the fields some active rule looks at, so intake fetches only those


@dataclass
class Applied:
    """A rule that matched (its words are made only when a ticket or the preview needs them)."""

    rule: CompiledRule

    @property
    def rule_id(self) -> int:
        return self.rule.id

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def actions(self) -> list[str]:
        return [a.describe() for a in self.rule.actions]


@dataclass
class Rejection:
    rule_id: int
    rule_name: str
    reason: str


@dataclass
class Plan:
    department: Department | None = None
    priority: Priority | None = None
    sla_plan: SlaPlan | None = None
    team: Team | None = None
    agent: Agent | None = None
    status: Status | None = None
    topic: HelpTopic | None = None
    collaborators: list[str] = field(default_factory=list)
    no_auto_reply: bool = False
    reject: Rejection | None = None
    applied: list[Applied] = field(default_factory=list)
    problems: dict[int, str] = field(default_factory=dict)  # rule id -> what went wrong
    set_by: dict[str, int] = field(default_factory=dict)  # action kind -> the rule that decided it

    @property
    def acted(self) -> bool:
        return bool(self.applied)


def condition_field(condition: Condition) -> str:
    """What a condition looks at: a Field value, or `cf:<key>` for a custom field."""
    if condition.field == Field.CUSTOM:
        return CUSTOM_PREFIX + condition.field_key
    return condition.field


def compile_condition(condition: Condition) -> CompiledCondition:
    value = condition.value
    if condition.field == Field.CHANNEL:
        folded = channel_value(value)
        choices = tuple(channel_value(v) for v in split_values(value))
    else:
        folded = value.casefold()
        choices = split_values(value)
    pattern = None
    literal = ""
    if condition.operator == Operator.REGEX:
        try:
            pattern, literal = folded_pattern(value)
        except regex.error:
            # The admin refuses such a pattern; one stored by other means never matches.
            log.warning("Routing rule %s: pattern %r does not compile", condition.rule_id, value)
    return CompiledCondition(
        condition.pk,
        condition_field(condition),
        condition.operator,
        folded,
        value,
        choices,
        pattern,
        literal,
        _predicate(condition.operator, folded, choices),
        condition.operator in NEGATIVE,
    )


def _predicate(operator: str, value: str, choices: tuple[str, ...]) -> Callable[[str], bool] | None:
    if operator in (Operator.EQUALS, Operator.NOT_EQUALS):
        return value.__eq__
    if operator in (Operator.CONTAINS, Operator.NOT_CONTAINS):
        return lambda text: value in text
    if operator == Operator.STARTS_WITH:
        return lambda text: text.startswith(value)
    if operator == Operator.ENDS_WITH:
        return lambda text: text.endswith(value)
    if operator == Operator.ONE_OF:
        return frozenset(choices).__contains__
    return None


def compile_rule(rule: Rule, conditions: Iterable[Condition], actions: Iterable[Action]) -> CompiledRule:
    compiled = tuple(compile_condition(c) for c in conditions)
    return CompiledRule(
        id=rule.pk,
        name=rule.name,
        match_all=rule.match == Match.ALL,
        stop=rule.stop_processing,
        conditions=compiled,
        actions=tuple(_compile_action(a) for a in actions),
        cheap_first=tuple(sorted(compiled, key=lambda c: c.cost)),
    )


def _compile_action(action: Action) -> CompiledAction:
    targets = {
        ActionKind.DEPARTMENT: action.department,
        ActionKind.PRIORITY: action.priority,
        ActionKind.SLA_PLAN: action.sla_plan,
        ActionKind.TEAM: action.team,
        ActionKind.AGENT: action.agent,
        ActionKind.STATUS: action.status,
        ActionKind.TOPIC: action.topic,
    }
    return CompiledAction(action.kind, targets.get(ActionKind(action.kind)), action.text)


TARGET_RELATIONS = ("department", "priority", "sla_plan", "team", "agent__user", "status", "topic__department")


def load(rules: Sequence[Rule] | None = None) -> Compiled:
    """Compile the active rules (three queries), or the rules given (the preview's)."""
    if rules is None:
        rules = list(
            Rule.objects.filter(is_active=True).prefetch_related(
                "conditions", Prefetch("actions", queryset=Action.objects.select_related(*TARGET_RELATIONS))
            )
        )
    compiled = tuple(compile_rule(r, r.conditions.all(), r.actions.all()) for r in rules)
    used = frozenset(c.field for r in compiled for c in r.conditions)
    return Compiled(compiled, used)


@process_memo.memo(
    "rules.Rule",
    "rules.Condition",
    "rules.Action",
    "accounts.Department",
    "accounts.Team",
    "accounts.Agent",
    "tickets.Priority",
    "tickets.Status",
    "tickets.HelpTopic",
    "sla.SlaPlan",
)
def active_rules() -> Compiled:
    """The active rules, compiled, read at most every 30 s per process and forgotten at once
    when this process saves a rule or one of the rows its actions name."""
    return load()


class _Clock:
    """The time patterns may still take for this ticket."""

    def __init__(self) -> None:
        self.left = REGEX_BUDGET_SECONDS


def _holds(condition: CompiledCondition, sample: Sample, clock: _Clock) -> bool:
    values = sample.values(condition.field)
    op = condition.operator
    if op in NEGATIVE:
        positive = Operator.EQUALS if op == Operator.NOT_EQUALS else Operator.CONTAINS
        return not any(_test(positive, condition, v, clock) for v in values)
    return any(_test(op, condition, v, clock) for v in values)


def _test(op: str, condition: CompiledCondition, value: str, clock: _Clock) -> bool:
    if op == Operator.EQUALS:
        return value == condition.value
    if op == Operator.CONTAINS:
        return condition.value in value
    if op == Operator.STARTS_WITH:
        return value.startswith(condition.value)
    if op == Operator.ENDS_WITH:
        return value.endswith(condition.value)
    if op == Operator.ONE_OF:
        return value in condition.choices
    if op == Operator.REGEX:
        if condition.pattern is None or (condition.literal and condition.literal not in value):
            return False
        if clock.left <= 0:
            raise TimeoutError
        started = time.perf_counter()
        try:
            return condition.pattern.search(value, timeout=min(REGEX_SECONDS, clock.left)) is not None
        finally:
            clock.left -= time.perf_counter() - started
    return False


@dataclass
class RuleResult:
    matched: bool
    answers: list[tuple[CompiledCondition, bool]]
    problem: str = ""

    @property
    def conditions(self) -> list[tuple[str, bool]]:
        """Each condition answered, in words (the preview)."""
        return [(condition.describe(), held) for condition, held in self.answers]


def check(rule: CompiledRule, sample: Sample, clock: _Clock | None = None, *, every: bool = False) -> RuleResult:
    """Does `rule` match `sample`? `every`: answer every condition (the preview), rather than
    stopping once the answer is known. A pattern that runs out of time counts as not matching
    and is reported in `problem`."""
    clock = clock or _Clock()
    results: list[tuple[CompiledCondition, bool]] = []
    problem = ""
    if not rule.conditions:
        return RuleResult(False, results)
    for condition in rule.conditions if every or not rule.cheap_first else rule.cheap_first:
        try:
            held = _holds(condition, sample, clock)
        except TimeoutError:
            held = False
            problem = _("The pattern “%(pattern)s” took too long and was stopped; it counted as not matching.") % {
                "pattern": condition.raw[:100]
            }
            log.warning("Routing rule %s (%s): pattern %r timed out", rule.id, rule.name, condition.raw)
        results.append((condition, held))
        if not every and held != rule.match_all:
            break
    answers = [held for _text, held in results]
    matched = (all(answers) and len(answers) == len(rule.conditions)) if rule.match_all else any(answers)
    return RuleResult(matched, results, problem)


def _matches(rule: CompiledRule, sample: Sample, clock: _Clock, problems: dict[int, str]) -> bool:
    """`check` without the answers kept, for every new ticket: cheap conditions first, stopping
    as soon as the answer is known."""
    if not rule.conditions:
        return False
    match_all = rule.match_all
    folded = sample.folded
    for condition in rule.cheap_first:
        predicate = condition.predicate
        if predicate is not None:
            values = folded.get(condition.field)
            if values is None:
                values = sample.values(condition.field)
            held = (predicate(values[0]) if len(values) == 1 else any(map(predicate, values))) != condition.negative
        else:
            try:
                held = _holds(condition, sample, clock)
            except TimeoutError:
                held = False
                problems[rule.id] = _(
                    "The pattern “%(pattern)s” took too long and was stopped; it counted as not matching."
                ) % {"pattern": condition.raw[:100]}
                log.warning("Routing rule %s (%s): pattern %r timed out", rule.id, rule.name, condition.raw)
        if held != match_all:
            return held
    return match_all


def evaluate(sample: Sample, compiled: Compiled | None = None) -> Plan:
    """What the rules, in order, do to a ticket like `sample`. Later rules override earlier ones
    for the same setting; a rule that stops processing or rejects ends the run."""
    compiled = compiled if compiled is not None else active_rules()
    plan = Plan()
    clock = _Clock()
    for rule in compiled.rules:
        if not _matches(rule, sample, clock, plan.problems):
            continue
        plan.applied.append(Applied(rule))
        for action in rule.actions:
            _apply(plan, rule, action)
            if plan.reject is not None:
                return plan
        if rule.stop:
            break
    return plan


def _apply(plan: Plan, rule: CompiledRule, action: CompiledAction) -> None:
    kind = action.kind
    target = action.target
    plan.set_by[kind] = rule.id
    if kind == ActionKind.COLLABORATORS:
        plan.collaborators.extend(a for a in addresses(action.text) if a not in plan.collaborators)
    elif kind == ActionKind.NO_AUTO_REPLY:
        plan.no_auto_reply = True
    elif kind == ActionKind.REJECT:
        plan.reject = Rejection(rule.id, rule.name, action.text)
    elif isinstance(target, Department) and kind == ActionKind.DEPARTMENT:
        plan.department = target
    elif isinstance(target, Priority) and kind == ActionKind.PRIORITY:
        plan.priority = target
    elif isinstance(target, SlaPlan) and kind == ActionKind.SLA_PLAN:
        plan.sla_plan = target if target.is_active else plan.sla_plan
    elif isinstance(target, Team) and kind == ActionKind.TEAM:
        plan.team = target if target.is_active else plan.team
    elif isinstance(target, Agent) and kind == ActionKind.AGENT:
        plan.agent = target if target.is_active else plan.agent
    elif isinstance(target, Status) and kind == ActionKind.STATUS:
        plan.status = target
    elif isinstance(target, HelpTopic) and kind == ActionKind.TOPIC:
        plan.topic = target if target.is_active else plan.topic
