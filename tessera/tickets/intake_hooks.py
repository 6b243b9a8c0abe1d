"""What else a new ticket carries: answers to custom fields, given with the request.

Why a registry: the fields app (`tessera.customfields`) checks and stores those answers, and the
ticket core never imports a feature app. It registers itself here from its `AppConfig.ready()`,
and `services/intake.open_ticket` calls out in two steps:

- `clean(actor, topic, values)` before anything is written, with the other checks of the
  request: it returns the values typed and validated, or raises a `ValidationError` whose keys
  name the inputs (`cf_<key>`), so the form shows them next to what was typed;
- `save(actor, ticket, cleaned)` inside the creating transaction, right after the ticket row is
  written: a refused or failing save rolls the whole ticket back.

With nothing registered, values given are ignored (there are no fields to answer).

A hook may also `describe` its cleaned values for the routing rules, which run before anything is
saved: {name: the answer as texts} (a multiple choice gives several), compared by rule conditions
on custom fields (tessera/rules/engine.py, `Sample.custom`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from tessera.accounts.models import User

    from .models import HelpTopic, Ticket

# Cleaned values are the hook's own (the fields app keys them by its Field rows).
Clean = Callable[["User", "HelpTopic | None", Mapping[str, object]], Mapping[Any, object]]
Save = Callable[["User", "Ticket", Mapping[Any, object]], None]
Describe = Callable[[Mapping[Any, object]], Mapping[str, tuple[str, ...]]]


@dataclass(frozen=True)
class Hook:
    clean: Clean
    save: Save
    describe: Describe | None = None


_hooks: dict[str, Hook] = {}


def register(name: str, *, clean: Clean, save: Save, describe: Describe | None = None) -> None:
    """Called from an AppConfig.ready(); registering the same name again replaces it."""
    _hooks[name] = Hook(clean, save, describe)


def unregister(name: str) -> None:
    _hooks.pop(name, None)


def clean(actor: User, topic: HelpTopic | None, values: Mapping[str, object] | None) -> dict[str, Mapping[Any, object]]:
    """Each hook's cleaned values, by hook name. Raises the hooks' ValidationErrors, merged.
    No values at all (None: a caller that does not ask custom fields, such as mail) asks
    nothing; an empty mapping is an answer that left every field blank."""
    cleaned: dict[str, Mapping[Any, object]] = {}
    if values is None:
        return cleaned
    errors: dict[str, list[str]] = {}
    for name, hook in list(_hooks.items()):
        try:
            cleaned[name] = hook.clean(actor, topic, values)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, messages in exc.message_dict.items():
                    errors.setdefault(field, []).extend(messages)
            else:
                errors.setdefault("__all__", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return cleaned


def rule_values(cleaned: Mapping[str, Mapping[Any, object]] | None) -> dict[str, tuple[str, ...]]:
    """The cleaned values as the routing rules compare them: {name: texts}, every hook's merged."""
    found: dict[str, tuple[str, ...]] = {}
    for name, values in (cleaned or {}).items():
        hook = _hooks.get(name)
        if hook is not None and hook.describe is not None:
            found.update(hook.describe(values))
    return found


def save(actor: User, ticket: Ticket, cleaned: Mapping[str, Mapping[Any, object]]) -> None:
    for name, values in cleaned.items():
        hook = _hooks.get(name)
        if hook is not None:
            hook.save(actor, ticket, values)
