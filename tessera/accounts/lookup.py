"""Finding an end user by what an agent types: the start of their name, their email address or
their organisation's name, without regard to case.

Prefix matching, so each of the three reads can walk an index (on PostgreSQL: lower(name) with
text_pattern_ops on users and organisations, migration accounts 0009_user_lookup_index; the
address's own LIKE index), and a desk with a million people answers as fast as one with ten.
People who work or configure the desk are never offered: they are not requesters.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from .models import Organization, User

LOOKUP_LIMIT = 10
MAX_TYPED = 100  # characters of the query looked at (an address is at most 254; a start is enough)


def _end_users() -> QuerySet[User]:
    """Active people with no agent profile who are not administrators."""
    return (
        User.objects.filter(is_active=True, is_staff=False, is_superuser=False, agent__isnull=True)
        .select_related("organization")
        .only("pk", "name", "email", "organization__name")
    )


def find_end_users(text: str, limit: int = LOOKUP_LIMIT) -> list[User]:
    """Up to `limit` end users whose name, address or organisation starts with `text` (case
    ignored): name matches first, then addresses, then organisations, each in order. Three
    queries whatever the desk's size; none for an empty text."""
    start = " ".join(text.split())[:MAX_TYPED].lower()
    if not start:
        return []
    by_name = list(
        _end_users().annotate(lname=Lower("name")).filter(lname__startswith=start).order_by("lname", "pk")[:limit]
    )
    by_email = list(_end_users().filter(email__startswith=start).order_by("email")[:limit])
    orgs = Organization.objects.annotate(lname=Lower("name")).filter(lname__startswith=start).values("pk")
    by_org = list(_end_users().filter(Q(organization__in=orgs[: limit * 5])).order_by("name", "email")[:limit])
    found: dict[int, User] = {}
    for user in (*by_name, *by_email, *by_org):
        found.setdefault(user.pk, user)
    return list(found.values())[:limit]
