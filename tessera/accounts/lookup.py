"""Finding an end user by what an agent types: the start of their name, their email address or
their organisation's name, without regard to case.

Prefix matching in byte order, so each of the four reads walks an index and stops after ten
entries (on PostgreSQL: lower(name), the lower-cased rest of the name after its first word and
the address on users, lower(name) on organisations, each COLLATE "C"; migration accounts
0009_user_lookup_index), and a desk with a million people answers as fast as one with ten.
People who work or configure the desk are never offered: they are not requesters.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Expression, F, QuerySet, Value
from django.db.models.functions import Collate, Lower, StrIndex, Substr

from .models import Organization, User

LOOKUP_LIMIT = 10
MAX_TYPED = 100  # characters of the query looked at (an address is at most 254; a start is enough)


def rest_of_name() -> Lower:
    """The name after its first space, lower-cased ("ken adams" → "adams"; a one-word name is
    itself): so "Ada" finds "Ken Adams" too."""
    return Lower(Substr(F("name"), StrIndex(F("name"), Value(" ")) + 1))


def bytewise(expression: Expression | str) -> Collate:
    """`expression` compared byte by byte (PostgreSQL's "C", SQLite's BINARY): the order of the
    lookup indexes, so "starts with … first ten in order" reads ten index entries and stops,
    however many people share the start."""
    key = F(expression) if isinstance(expression, str) else expression
    return Collate(key, "C" if connection.vendor == "postgresql" else "BINARY")


# The lookup's keys, each indexed as written here on PostgreSQL (migration 0009_user_lookup_index).
def name_key() -> Collate:
    return bytewise(Lower("name"))


def rest_of_name_key() -> Collate:
    return bytewise(rest_of_name())


def email_key() -> Collate:
    return bytewise("email")  # stored lower-cased


def _end_users() -> QuerySet[User]:
    """Active people with no agent profile who are not administrators."""
    return (
        User.objects.filter(is_active=True, is_staff=False, is_superuser=False, agent__isnull=True)
        .select_related("organization")
        .only("pk", "name", "email", "organization__name")
    )


def _starting(qs: QuerySet[Any], key: Collate, start: str, limit: int) -> list[Any]:
    return list(qs.annotate(key=key).filter(key__startswith=start).order_by("key", "pk")[:limit])


def find_end_users(text: str, limit: int = LOOKUP_LIMIT) -> list[User]:
    """Up to `limit` end users whose name (or the rest of it after the first word), address or
    organisation starts with `text`, case ignored: name matches first, then addresses, then
    organisations, each in order. Four queries whatever the desk's size; none for no text."""
    start = " ".join(text.split())[:MAX_TYPED].lower()
    if not start:
        return []
    by_name = _starting(_end_users(), name_key(), start, limit)
    by_rest = _starting(_end_users(), rest_of_name_key(), start, limit)
    by_email = _starting(_end_users(), email_key(), start, limit)
    orgs = Organization.objects.annotate(key=name_key()).filter(key__startswith=start).order_by("key")
    by_org = list(
        _end_users().filter(organization__in=orgs.values("pk")[:limit]).order_by("organization_id", "pk")[:limit]
    )
    found: dict[int, User] = {}
    for user in (*by_name, *by_rest, *by_email, *by_org):
        found.setdefault(user.pk, user)
    return list(found.values())[:limit]
