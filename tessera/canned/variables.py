"""Variables in canned responses: %{ticket.number}, %{user.first_name}, %{ticket.field.<key>}…

The syntax is osTicket's, so responses brought over keep working. Filling them in is one pass of
a regular expression over the stored text: no template engine ever sees what an agent typed, so
`{{ settings.SECRET_KEY }}` or `{% load %}` can do nothing (and are refused at save, with the
right way to write a variable). Values are plain text; the caller escapes them where the result
is HTML (the preview goes through tickets.content.from_text, like any reply).

Other apps add a namespace of their own (custom fields: `ticket.field.<key>`) with
`register_namespace`, from their AppConfig.ready(): it says which names exist (checked when a
response is saved) and gives one ticket's values (read when one is rendered).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tessera.accounts.models import User
from tessera.tickets import access_links
from tessera.tickets.models import Ticket

# %{ name }: the name is what lies between the braces, spaces around it allowed. A name made of
# anything but letters, digits, dots, dashes and underscores is still a variable — an unknown one.
VARIABLE = re.compile(r"%\{([^{}\n]*)\}")
_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
# What other systems' templates look like: never evaluated here, and refused at save so the
# author learns the syntax instead of sending braces to a customer.
FOREIGN_SYNTAX = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


@dataclass(frozen=True)
class Builtin:
    label: Promise
    value: Callable[[Ticket, User], str]


def _first_name(user: User) -> str:
    return user.get_short_name()


BUILTINS: dict[str, Builtin] = {
    "ticket.number": Builtin(_("the ticket's number"), lambda t, a: str(t.number)),
    "ticket.subject": Builtin(_("the ticket's subject"), lambda t, a: t.subject),
    "ticket.link": Builtin(
        _("the link the customer follows to see and answer the ticket"),
        lambda t, a: access_links.access_url(t, t.user),
    ),
    "user.name": Builtin(_("the customer's name"), lambda t, a: t.user.display_name),
    "user.first_name": Builtin(_("the customer's first name"), lambda t, a: _first_name(t.user)),
    "agent.name": Builtin(_("your name (the agent replying)"), lambda t, a: a.display_name),
    "department.name": Builtin(_("the ticket's department"), lambda t, a: t.department.name),
}


@dataclass(frozen=True)
class Namespace:
    """Variables another app provides: `prefix` + key, e.g. ticket.field.<key>."""

    prefix: str
    label: Promise | str
    is_known: Callable[[str], bool]  # the key (after the prefix) names something that exists
    values: Callable[[Ticket], Mapping[str, str]]  # every key's value for one ticket


_namespaces: dict[str, Namespace] = {}


def register_namespace(
    prefix: str,
    *,
    label: Promise | str,
    is_known: Callable[[str], bool],
    values: Callable[[Ticket], Mapping[str, str]],
) -> None:
    """Add (or replace) a namespace. `prefix` ends with a dot, e.g. "ticket.field."."""
    if not prefix.endswith(".") or not _NAME.fullmatch(prefix):
        raise ValueError(f"A variable namespace is a dotted prefix ending in '.', not {prefix!r}.")
    _namespaces[prefix] = Namespace(prefix, label, is_known, values)


def unregister_namespace(prefix: str) -> None:
    _namespaces.pop(prefix, None)


def namespaces() -> list[Namespace]:
    return list(_namespaces.values())


def _namespace_of(name: str) -> tuple[Namespace, str] | None:
    for prefix, namespace in _namespaces.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            return namespace, name[len(prefix) :]
    return None


def is_known(name: str) -> bool:
    if name in BUILTINS:
        return True
    found = _namespace_of(name)
    return found is not None and bool(_NAME.fullmatch(name)) and found[0].is_known(found[1])


def names_in(text: str) -> list[str]:
    """Every variable the text names, in order, once each (as written, spaces trimmed)."""
    return list(dict.fromkeys(match.group(1).strip() for match in VARIABLE.finditer(text or "")))


def unknown_variables(text: str) -> list[str]:
    return [name for name in names_in(text) if not is_known(name)]


def unclosed(text: str) -> list[str]:
    """Each "%{" that starts no variable (its closing brace is missing), with what follows it."""
    text = text or ""
    starts = {match.start() for match in VARIABLE.finditer(text)}
    found = []
    at = text.find("%{")
    while at != -1:
        if at not in starts:
            found.append(text[at : at + 30].split("\n", 1)[0])
        at = text.find("%{", at + 2)
    return list(dict.fromkeys(found))


def foreign_syntax(text: str) -> list[str]:
    """Template syntax of other engines found in the text ({{ … }}, {% … %}), as written."""
    return list(dict.fromkeys(match.group(0)[:60] for match in FOREIGN_SYNTAX.finditer(text or "")))


def render(text: str, ticket: Ticket, agent_user: User) -> str:
    """The text with each variable replaced by its value for this ticket and agent, in one pass:
    a value that itself looks like a variable is left as it is. A variable that no longer exists
    (a custom field removed since the response was saved) becomes empty, never raw braces."""
    cache: dict[str, str] = {}
    namespace_values: dict[str, Mapping[str, str]] = {}

    def value(name: str) -> str:
        if name in cache:
            return cache[name]
        builtin = BUILTINS.get(name)
        if builtin is not None:
            result = builtin.value(ticket, agent_user) or ""
        else:
            found = _namespace_of(name)
            result = ""
            if found is not None:
                namespace, key = found
                if namespace.prefix not in namespace_values:
                    namespace_values[namespace.prefix] = namespace.values(ticket)
                result = str(namespace_values[namespace.prefix].get(key, ""))
        cache[name] = result
        return result

    return VARIABLE.sub(lambda match: value(match.group(1).strip()), text or "")


def help_rows() -> list[tuple[str, str]]:
    """(variable as written, what it becomes) for the management page's help."""
    rows = [(f"%{{{name}}}", str(builtin.label)) for name, builtin in BUILTINS.items()]
    rows += [(f"%{{{ns.prefix}<key>}}", str(ns.label)) for ns in _namespaces.values()]
    return rows
