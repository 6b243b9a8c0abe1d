"""Who may read and write the knowledge base: the one place these questions are answered
(the ticket core's policy answers the rest and is asked here for who is an agent).

- Writing, editing, restoring and deleting articles and categories: superusers, and agents whose
  role in any of their departments grants Perm.KB. The knowledge base is desk-wide, not
  per department, as osTicket's FAQ permission.
- Reading: everyone reads public articles in public categories (a category is public only when
  every category above it is); agents (and superusers) read internal ones too. Anything else
  answers 404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from tessera.accounts.models import Perm, User
from tessera.tickets import policy as ticket_policy

from .models import Article, Category


def _active(user: User | AnonymousUser | None) -> User | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return user


def can_edit_kb(user: User | AnonymousUser | None) -> bool:
    """Write and edit articles and categories (Perm.KB in any of the agent's roles)."""
    actor = _active(user)
    if actor is None:
        return False
    if actor.is_superuser:
        return True
    agent = ticket_policy.workspace_agent(actor)
    if agent is None or not agent.is_active:
        return False
    return any(Perm.KB in ticket_policy.department_perms(agent, d) for d in ticket_policy.department_ids(agent))


def reads_internal(user: User | AnonymousUser | None) -> bool:
    """Internal articles and categories are for the desk's staff: active agents and superusers."""
    actor = _active(user)
    if actor is None:
        return False
    return actor.is_superuser or ticket_policy.workspace_agent(actor) is not None


def public_category_ids(categories: Iterable[Category]) -> set[int]:
    """The categories a visitor may see: public, and every parent above them public."""
    by_id = {c.pk: c for c in categories}
    public: set[int] = set()
    for category in by_id.values():
        seen: set[int] = set()
        node: Category | None = category
        ok = True
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            if not node.is_public:
                ok = False
                break
            node = by_id.get(node.parent_id) if node.parent_id is not None else None
        if ok:
            public.add(category.pk)
    return public


def visible_categories(user: User | AnonymousUser | None) -> list[Category]:
    """The categories this person may see, in display order (one query)."""
    categories = list(Category.objects.all())
    if reads_internal(user):
        return categories
    public = public_category_ids(categories)
    return [c for c in categories if c.pk in public]


def visible_articles(
    user: User | AnonymousUser | None, categories: Iterable[Category] | None = None
) -> QuerySet[Article]:
    """The articles this person may read. `categories`: the result of visible_categories when
    the caller has it already (spares a query)."""
    qs = Article.objects.all()
    if reads_internal(user):
        return qs
    ids = [c.pk for c in (visible_categories(user) if categories is None else categories)]
    return qs.filter(is_public=True).filter(Q(category__isnull=True) | Q(category_id__in=ids))


def can_read_article(user: User | AnonymousUser | None, article: Article) -> bool:
    if reads_internal(user):
        return True
    if not article.is_public:
        return False
    if article.category_id is None:
        return True
    return article.category_id in {c.pk for c in visible_categories(user)}


def can_read_category(user: User | AnonymousUser | None, category: Category) -> bool:
    return reads_internal(user) or category.pk in {c.pk for c in visible_categories(user)}
