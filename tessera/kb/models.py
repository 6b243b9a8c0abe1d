"""The knowledge base: nested categories of articles written in Markdown, public (the portal,
anyone) or internal (agents only), with files, related help topics, every earlier version, and
the counters that tell whether the articles help (views, "did this answer your question?",
tickets not opened because an article answered).

Kept plain on purpose: the osTicket importer fills these models from osTicket's FAQ categories
and FAQs through kb.services, as the staff pages do.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tessera.accounts.models import User
from tessera.tickets.models import HelpTopic


class Category(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("address"), max_length=140, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    description = models.TextField(_("description"), blank=True, default="")
    # Internal: agents only, with everything in it (a public article in an internal category is internal).
    is_public = models.BooleanField(_("public"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("knowledge-base category")
        verbose_name_plural = _("knowledge-base categories")
        ordering = ["order", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="articles"
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("address"), max_length=220, unique=True)
    body = models.TextField(_("text (Markdown)"))
    # The body as shown (Markdown rendered, raw HTML off, sanitised) and its plain-text twin,
    # both made by kb.services on save, never by a template.
    body_html = models.TextField(editable=False, default="")
    body_text = models.TextField(editable=False, default="")
    is_public = models.BooleanField(_("public"), default=True)
    featured = models.BooleanField(_("featured"), default=False)
    topics: models.ManyToManyField[HelpTopic, Any] = models.ManyToManyField(
        HelpTopic, verbose_name=_("related help topics"), related_name="+", blank=True
    )
    created_by = models.ForeignKey(
        User, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        User, verbose_name=_("updated by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # Counters, changed only by single UPDATE … SET n = n + 1 statements (kb.services).
    view_count = models.PositiveIntegerField(_("views"), default=0)
    helpful_yes = models.PositiveIntegerField(_("answered the question"), default=0)
    helpful_no = models.PositiveIntegerField(_("did not answer"), default=0)
    deflections = models.PositiveIntegerField(_("tickets not needed"), default=0)

    class Meta:
        verbose_name = _("knowledge-base article")
        verbose_name_plural = _("knowledge-base articles")
        ordering = ["title", "pk"]
        indexes = [models.Index(fields=["is_public", "featured"], name="kb_article_public_featured")]

    def __str__(self) -> str:
        return self.title


class ArticleVersion(models.Model):
    """An article as it was before an edit: what was replaced, who had written it and when."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text (Markdown)"))
    editor = models.ForeignKey(
        User, verbose_name=_("written by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    written_at = models.DateTimeField(_("written"))

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["-written_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.written_at:%Y-%m-%d %H:%M})"


def article_file_path(instance: ArticleAttachment, filename: str) -> str:
    # Content-addressed like the tickets' and canned responses' files.
    return f"kb/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class ArticleAttachment(models.Model):
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=article_file_path, max_length=300)
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=120)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("article file")
        verbose_name_plural = _("article files")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class DeflectionDay(models.Model):
    """Tickets the desk did not receive because an article answered, per day (UTC), for reports."""

    day = models.DateField(_("day"), unique=True)
    count = models.PositiveIntegerField(_("tickets not needed"), default=0)

    class Meta:
        verbose_name = _("deflections on a day")
        verbose_name_plural = _("deflections per day")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.count}"


class ArticleDocument(models.Model):
    """An article's search document on PostgreSQL (title weight A, text D; GIN indexed). On
    SQLite the text lives in the FTS5 table kb_fts (rowid = article id) instead, made by this
    app's first migration; see kb.search_index."""

    article = models.OneToOneField(Article, primary_key=True, on_delete=models.CASCADE, related_name="search_document")
    document = SearchVectorField(null=True)

    class Meta:
        verbose_name = _("article search document")
        verbose_name_plural = _("article search documents")
        indexes = [GinIndex(fields=["document"], name="kb_document_gin")]

    def __str__(self) -> str:
        return f"search document of article {self.article_id}"
