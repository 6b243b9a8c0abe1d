"""A factory for routing rules, as an administrator would write them."""

from __future__ import annotations

import pytest


@pytest.fixture
def make_rule(db):
    """make_rule("name", [(field, operator, value)], [(kind, target_or_text)], match=..., order=..., stop=...)."""
    from tessera.rules.models import TARGET_FIELDS, Action, ActionKind, Condition, Rule

    def make(name, conditions, actions=(), *, match="all", order=0, stop=False, active=True):
        rule = Rule.objects.create(name=name, match=match, order=order, stop_processing=stop, is_active=active)
        for field, operator, value in conditions:
            Condition.objects.create(rule=rule, field=field, operator=operator, value=value)
        for kind, target in actions:
            field = TARGET_FIELDS.get(ActionKind(kind))
            if field is not None:
                Action.objects.create(rule=rule, kind=kind, **{field: target})
            else:
                Action.objects.create(rule=rule, kind=kind, text=target or "")
        return rule

    return make
