"""Reads of the knowledge base for its pages: a fixed number of queries each, whatever the
number of articles (the category tree is read once and walked in Python)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from tessera.accounts.models import User

from . import policy
from .models import Article, Category, DeflectionDay

FEATURED_LIMIT = 8


@dataclass
class CategoryNode:
    category: Category
    article_count: int = 0
    children: list[CategoryNode] = field(default_factory=list)


def category_tree(categories: list[Category], counts: dict[int | None, int] | None = None) -> list[CategoryNode]:
    """The categories as a tree (children in display order), each with its article count."""
    counts = counts or {}
    nodes = {c.pk: CategoryNode(c, counts.get(c.pk, 0)) for c in categories}
    roots: list[CategoryNode] = []
    for c in categories:
        parent = nodes.get(c.parent_id) if c.parent_id is not None else None
        (parent.children if parent is not None else roots).append(nodes[c.pk])
    return roots


def article_counts(articles: QuerySet[Article]) -> dict[int | None, int]:
    return dict(articles.order_by().values_list("category_id").annotate(n=Count("pk")).values_list("category_id", "n"))


def ancestors(category: Category, categories: list[Category]) -> list[Category]:
    """The categories above this one, outermost first (for breadcrumbs)."""
    by_id = {c.pk: c for c in categories}
    chain: list[Category] = []
    node = by_id.get(category.parent_id) if category.parent_id is not None else None
    while node is not None and node not in chain:
        chain.insert(0, node)
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    return chain


def featured(user: User | AnonymousUser | None, categories: list[Category]) -> list[Article]:
    return list(
        policy.visible_articles(user, categories)
        .filter(featured=True)
        .select_related("category")
        .order_by("-updated_at", "pk")[:FEATURED_LIMIT]
    )


def readable_article(user: User | AnonymousUser | None, slug: str) -> Article | None:
    """The article at this address if this person may read it (None answers 404 either way)."""
    article = (
        Article.objects.select_related("category", "updated_by")
        .prefetch_related("attachments")
        .filter(slug=slug)
        .first()
    )
    if article is None or not policy.can_read_article(user, article):
        return None
    return article


@dataclass(frozen=True)
class DeflectionTotals:
    all_time: int
    last_30_days: int
    today: int


def deflection_totals(now: datetime.datetime | None = None) -> DeflectionTotals:
    today = (now or timezone.now()).astimezone(datetime.UTC).date()
    since = today - datetime.timedelta(days=29)
    rows = DeflectionDay.objects.aggregate(all=Sum("count"))
    recent = dict(DeflectionDay.objects.filter(day__gte=since).values_list("day", "count"))
    return DeflectionTotals(rows["all"] or 0, sum(recent.values()), recent.get(today, 0))
