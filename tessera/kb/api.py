"""The knowledge base in the REST API (/api/v1/kb/): reads only. A key with the tickets:read
scope reads articles and categories; a key acting as an agent reads what that agent reads on the
workspace (internal ones too), a system key what any visitor reads on the Help Center (kb.policy).
The knowledge base is small, so lists come whole up to `limit`, newest change first."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from django.conf import settings
from django.http import Http404, HttpRequest
from django.urls import reverse

from tessera.accounts.models import User
from tessera.api.auth import require_scope
from tessera.api.models import Scope
from tessera.api.problems import COMMON
from tessera.db_keys import is_key

from . import policy, search_query
from .models import Article

router = Router(tags=["knowledge base"])
MAX_LIMIT = 100


class ArticleOut(Schema):
    id: int
    title: str
    slug: str
    category: int | None
    is_public: bool
    featured: bool
    body: str  # Markdown, as written
    body_html: str  # rendered and sanitised
    url: str  # on the Help Center (readable only by whom may read the article)
    topics: list[int]
    created_at: datetime
    updated_at: datetime
    views: int
    helpful_yes: int
    helpful_no: int
    deflections: int


class ArticleList(Schema):
    items: list[ArticleOut]


class CategoryOut(Schema):
    id: int
    name: str
    slug: str
    parent: int | None
    description: str
    is_public: bool
    order: int


class CategoryList(Schema):
    items: list[CategoryOut]


def _reader(request: HttpRequest) -> User | None:
    require_scope(request, Scope.TICKETS_READ)
    actor: User | None = request.actor  # type: ignore[attr-defined]
    return actor


def _out(article: Article) -> ArticleOut:
    base: str = settings.TESSERA["BASE_URL"].rstrip("/")
    return ArticleOut(
        id=article.pk,
        title=article.title,
        slug=article.slug,
        category=article.category_id,
        is_public=article.is_public,
        featured=article.featured,
        body=article.body,
        body_html=article.body_html,
        url=base + reverse("kb:article", args=[article.slug]),
        topics=sorted(t.pk for t in article.topics.all()),
        created_at=article.created_at,
        updated_at=article.updated_at,
        views=article.view_count,
        helpful_yes=article.helpful_yes,
        helpful_no=article.helpful_no,
        deflections=article.deflections,
    )


@router.get("/articles", response={200: ArticleList, **COMMON}, url_name="kb_articles", summary="List articles")
def list_articles(request: HttpRequest, q: str = "", category: int | None = None, limit: int = 50) -> ArticleList:
    """Articles the key may read: matching `q` (best first) when given, else newest change first."""
    actor = _reader(request)
    limit = max(1, min(limit, MAX_LIMIT))
    if q.strip():
        articles = [h.article for h in search_query.search(actor, q[:256], limit=limit)]
        if category is not None:
            articles = [a for a in articles if a.category_id == category]
        ids = [a.pk for a in articles]
        loaded = {a.pk: a for a in Article.objects.prefetch_related("topics").filter(pk__in=ids)}
        rows = [loaded[pk] for pk in ids if pk in loaded]
    else:
        qs = policy.visible_articles(actor).prefetch_related("topics").order_by("-updated_at", "-pk")
        if category is not None:
            qs = qs.filter(category_id=category) if is_key(category) else qs.none()
        rows = list(qs[:limit])
    return ArticleList(items=[_out(a) for a in rows])


@router.get(
    "/articles/{article_id}", response={200: ArticleOut, **COMMON}, url_name="kb_article", summary="Read an article"
)
def read_article(request: HttpRequest, article_id: int) -> ArticleOut:
    actor = _reader(request)
    if not is_key(article_id):
        raise Http404
    found = policy.visible_articles(actor).prefetch_related("topics").filter(pk=article_id).first()
    if found is None:
        raise Http404
    return _out(found)


@router.get("/categories", response={200: CategoryList, **COMMON}, url_name="kb_categories", summary="List categories")
def list_categories(request: HttpRequest) -> CategoryList:
    actor = _reader(request)
    return CategoryList(
        items=[
            CategoryOut(
                id=c.pk,
                name=c.name,
                slug=c.slug,
                parent=c.parent_id,
                description=c.description,
                is_public=c.is_public,
                order=c.order,
            )
            for c in policy.visible_categories(actor)
        ]
    )
