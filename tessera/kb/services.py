"""Every change to the knowledge base: articles (with their files, topics and versions),
categories, and the counters visitors move (views, "did this answer your question?", tickets
not needed).

Writes take the acting person first and ask kb.policy; `actor=None` is the system itself (the
osTicket importer, seed_demo), which needs no permission and is recorded as nobody. Text is
rendered and sanitised here, once, on the way in (tickets.content.from_text: Markdown with raw
HTML off, then nh3), and the search document is rewritten in the same transaction. Counters move
by single `UPDATE … SET n = n + 1` statements, so simultaneous visitors never lose a count.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.audit import services as audit
from tessera.tickets import attachments as attachment_store
from tessera.tickets import content
from tessera.tickets.models import HelpTopic

from . import policy, search_index
from .models import Article, ArticleAttachment, ArticleVersion, Category, DeflectionDay

TITLE_MAX = 200
NAME_MAX = 120


def _require_editor(actor: User | None) -> None:
    if actor is not None and not policy.can_edit_kb(actor):
        raise PermissionDenied(_("Writing knowledge-base articles needs a role that grants it. Ask an administrator."))


def unique_slug(
    model: type[Article] | type[Category], text: str, *, exclude_pk: int | None = None, limit: int = 200
) -> str:
    """A readable address from a title, made unique with -2, -3… ("article" when nothing is left)."""
    base = slugify(text)[: limit - 8].strip("-") or ("article" if model is Article else "category")
    taken = set(
        model.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True)  # type: ignore[misc]
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def validate_article(title: str, body: str, slug: str = "") -> dict[str, list[str]]:
    """What is wrong with an article's title, text and address, by field (empty: nothing)."""
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = [_("Give the article a title.")]
    elif len(title.strip()) > TITLE_MAX:
        errors["title"] = [_("Keep the title under %(n)d characters.") % {"n": TITLE_MAX}]
    if not (body or "").strip():
        errors["body"] = [_("Write the article's text.")]
    elif len(body) > settings.TESSERA["MAX_MESSAGE_LENGTH"]:
        errors["body"] = [
            _("Keep the text under %(n)s characters.") % {"n": f"{settings.TESSERA['MAX_MESSAGE_LENGTH']:,}"}
        ]
    if slug and slugify(slug) != slug:
        errors["slug"] = [_("Use only lower-case letters, digits and hyphens in the address.")]
    return errors


def save_article(
    actor: User | None,
    article: Article | None,
    *,
    title: str,
    body: str,
    category: Category | None = None,
    is_public: bool = True,
    featured: bool = False,
    topics: Iterable[HelpTopic] = (),
    slug: str = "",
    uploads: Sequence[attachment_store.Upload] = (),
    remove_files: Iterable[int] = (),
    at: datetime.datetime | None = None,
    seen: str = "",
) -> Article:
    """Create (article None) or change an article. An edit that changes the title or text keeps
    what it replaces as an ArticleVersion. `at`: when (the importer keeps osTicket's times).
    `seen`: the version the editor started from (version_of); an article saved by someone else
    since is refused (code "stale") rather than silently overwritten."""
    _require_editor(actor)
    slug = (slug or "").strip()
    errors = validate_article(title, body, slug)
    others = Article.objects.filter(slug=slug)
    if article is not None:
        others = others.exclude(pk=article.pk)
    if slug and others.exists():
        errors.setdefault("slug", []).append(_("Another article has this address; choose another."))
    if errors:
        raise ValidationError(errors)
    attachment_store.validate_uploads(list(uploads))
    now = at or timezone.now()
    title = title.strip()
    body_html, body = content.from_text(body)
    remove = set(remove_files)
    with transaction.atomic():
        if article is None:
            article = Article(created_by=actor, created_at=now)
            created = True
        else:
            article = Article.objects.select_for_update().get(pk=article.pk)
            created = False
            if seen and seen != version_of(article):
                raise ValidationError(
                    _(
                        "Someone saved this article while you were editing it. Their text is now the current one "
                        "(and in the history); your text is below: save again to replace theirs."
                    ),
                    code="stale",
                )
            if (article.title, article.body) != (title, body):
                ArticleVersion.objects.create(
                    article=article,
                    title=article.title,
                    body=article.body,
                    editor=article.updated_by,
                    written_at=article.updated_at,
                )
        article.title = title
        article.slug = slug or (article.slug if not created else unique_slug(Article, title))
        article.body = body
        article.body_html = body_html
        article.body_text = content.html_to_text(body_html)
        article.category = category
        article.is_public = is_public
        article.featured = featured
        article.updated_by = actor
        article.updated_at = now
        try:
            with transaction.atomic():
                article.save()
        except IntegrityError as exc:  # the same address saved by someone else meanwhile
            raise ValidationError({"slug": [_("Another article has this address; choose another.")]}) from exc
        article.topics.set(list(topics))
        for file in article.attachments.filter(pk__in=remove):
            file.file.delete(save=False)
            file.delete()
        _store_files(article, uploads)
        search_index.index_article(article)
        audit.record(
            audit.Action.CHANGE,
            actor=actor,
            obj=article,
            after={"title": article.title, "is_public": article.is_public, "featured": article.featured},
            detail="created" if created else "changed",
        )
    return article


def version_of(article: Article) -> str:
    """What the edit form remembers to tell a stale save: the time of the last change."""
    return article.updated_at.isoformat()


def create_article(actor: User | None, *, title: str, body: str, **fields: object) -> Article:
    """A new article (see save_article for the fields)."""
    return save_article(actor, None, title=title, body=body, **fields)  # type: ignore[arg-type]


def restore_version(actor: User | None, article: Article, version: ArticleVersion) -> Article:
    """Make an earlier version the current one, as a new edit (the current text is kept as a version)."""
    if version.article_id != article.pk:
        raise ValidationError(_("This version belongs to another article."))
    return save_article(
        actor,
        article,
        title=version.title,
        body=version.body,
        category=article.category,
        is_public=article.is_public,
        featured=article.featured,
        topics=list(article.topics.all()),
        slug=article.slug,
    )


def delete_article(actor: User | None, article: Article) -> None:
    _require_editor(actor)
    with transaction.atomic():
        files = list(article.attachments.all())
        audit.record(audit.Action.CHANGE, actor=actor, obj=article, before={"title": article.title}, detail="deleted")
        article_id = article.pk
        article.delete()
        search_index.forget_article(article_id)
        transaction.on_commit(lambda: _delete_stored(files))


def _delete_stored(files: list[ArticleAttachment]) -> None:
    for file in files:
        file.file.delete(save=False)


def _store_files(article: Article, uploads: Sequence[attachment_store.Upload]) -> None:
    for up in uploads:
        name = attachment_store.safe_name(up.name)
        row = ArticleAttachment(
            article=article,
            name=name,
            size=len(up.content),
            content_type=attachment_store.stored_content_type(name, up.content_type, up.content),
            sha256=hashlib.sha256(up.content).hexdigest(),
        )
        row.file.save(name, ContentFile(up.content), save=False)
        row.save()


# ---------------------------------------------------------------------------- categories


def save_category(
    actor: User | None,
    category: Category | None,
    *,
    name: str,
    parent: Category | None = None,
    description: str = "",
    is_public: bool = True,
    order: int = 0,
    slug: str = "",
) -> Category:
    """Create (category None) or change a category. A category cannot sit inside itself."""
    _require_editor(actor)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the category a name.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("Keep the name under %(n)d characters.") % {"n": NAME_MAX}]
    slug = (slug or "").strip()
    if slug and slugify(slug) != slug:
        errors["slug"] = [_("Use only lower-case letters, digits and hyphens in the address.")]
    elif slug and Category.objects.filter(slug=slug).exclude(pk=category.pk if category else 0).exists():
        errors["slug"] = [_("Another category has this address; choose another.")]
    if category is not None and parent is not None and _is_below(parent, category):
        errors["parent"] = [_("A category cannot be placed inside itself or one of its own subcategories.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        created = category is None
        if category is None:
            category = Category()
        category.name = name
        category.slug = slug or (category.slug if not created else unique_slug(Category, name, limit=140))
        category.parent = parent
        category.description = (description or "").strip()
        category.is_public = is_public
        category.order = max(0, order)
        category.save()
        audit.record(
            audit.Action.CHANGE,
            actor=actor,
            obj=category,
            after={"name": category.name, "is_public": category.is_public, "parent": category.parent_id},
            detail="created" if created else "changed",
        )
    return category


def _is_below(candidate: Category, category: Category) -> bool:
    """Is `candidate` the category itself or somewhere under it?"""
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    node: int | None = candidate.pk
    seen: set[int] = set()
    while node is not None and node not in seen:
        if node == category.pk:
            return True
        seen.add(node)
        node = parents.get(node)
    return False


def delete_category(actor: User | None, category: Category) -> None:
    """Only an empty category goes: its articles and subcategories must be moved first."""
    _require_editor(actor)
    if category.articles.exists() or category.children.exists():
        raise ValidationError(_("Move this category's articles and subcategories elsewhere before deleting it."))
    with transaction.atomic():
        audit.record(audit.Action.CHANGE, actor=actor, obj=category, before={"name": category.name}, detail="deleted")
        category.delete()


# ---------------------------------------------------------------------------- counters


def count_view(article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


def count_vote(article: Article, *, helpful: bool) -> None:
    field = "helpful_yes" if helpful else "helpful_no"
    Article.objects.filter(pk=article.pk).update(**{field: F(field) + 1})


def count_deflection(article: Article, *, at: datetime.datetime | None = None) -> None:
    """A visitor who came from the new-ticket form left with this article's answer: one ticket
    not needed, on the article and on the day's desk-wide count."""
    day = (at or timezone.now()).astimezone(datetime.UTC).date()
    with transaction.atomic():
        Article.objects.filter(pk=article.pk).update(deflections=F("deflections") + 1)
        if not DeflectionDay.objects.filter(day=day).update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    DeflectionDay.objects.create(day=day, count=1)
            except IntegrityError:  # created by a simultaneous visitor
                DeflectionDay.objects.filter(day=day).update(count=F("count") + 1)
