"""The knowledge base in the workspace (/staff/kb/): every agent reads and searches it (internal
articles included) and inserts articles into replies (the reply box's picker, JSON for
static/js/kb_picker.js); agents whose role grants Perm.KB write, edit, restore and delete
articles and manage categories (kb.policy.can_edit_kb). An article that does not exist answers
404; a page that needs the right the agent lacks answers 403.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tessera.accounts.http import AuthenticatedHttpRequest
from tessera.accounts.models import Agent
from tessera.staff.access import agent_required
from tessera.tickets import attachments as attachment_store
from tessera.tickets import content

from . import policy, search_query, selectors, services
from .forms import ArticleForm, CategoryForm, tree_order
from .models import Article, ArticleAttachment, ArticleVersion, Category

PAGE_SIZE = 50
QUERY_MAX = 256
PICKER_LIMIT = 10


def _not_found(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request, "staff/not_found.html", {"message": _("This knowledge-base article does not exist.")}, status=404
    )


def _forbidden(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "kb/staff/forbidden.html", status=403)


def _article(pk: int) -> Article | None:
    return (
        Article.objects.select_related("category", "created_by", "updated_by")
        .prefetch_related("topics", Prefetch("attachments", queryset=ArticleAttachment.objects.order_by("name", "pk")))
        .filter(pk=pk)
        .first()
    )


# ---------------------------------------------------------------------------- the list


@require_GET
@agent_required
def article_list(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    query = request.GET.get("q", "")[:QUERY_MAX].strip()
    categories = list(Category.objects.all())
    category_id = request.GET.get("category", "")
    chosen = next((c for c in categories if str(c.pk) == category_id), None)
    hits: list[search_query.ArticleHit] = []
    page = None
    if query:
        hits = search_query.search(request.user, query)
        if chosen is not None:
            hits = [h for h in hits if h.article.category_id == chosen.pk]
    else:
        articles = Article.objects.select_related("category").order_by("-updated_at", "-pk")
        if chosen is not None:
            articles = articles.filter(category=chosen)
        page = Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "query": query,
        "hits": hits,
        "page": page,
        "chosen": chosen,
        "tree": selectors.category_tree(categories, selectors.article_counts(Article.objects.all())),
        "totals": selectors.deflection_totals(),
        "can_edit": policy.can_edit_kb(request.user),
    }
    return render(request, "kb/staff/list.html", context)


# ---------------------------------------------------------------------------- writing


def _edit(request: AuthenticatedHttpRequest, article: Article | None) -> HttpResponse:
    categories = list(Category.objects.all())
    files = article.attachments.order_by("name", "pk") if article is not None else None
    template = "kb/staff/form.html"
    if request.method != "POST":
        initial: dict[str, Any] = {"is_public": True}
        if article is not None:
            initial = {
                "title": article.title,
                "category": article.category_id,
                "body": article.body,
                "is_public": article.is_public,
                "featured": article.featured,
                "topics": list(article.topics.all()),
                "slug": article.slug,
                "seen": services.version_of(article),
            }
        form = ArticleForm(initial=initial, categories=categories, files=files)
        return render(request, template, {"form": form, "article": article})
    form = ArticleForm(request.POST, request.FILES, categories=categories, files=files)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.save_article(
                request.user,
                article,
                title=data["title"],
                body=data["body"],
                category=data["category"],
                is_public=data["is_public"],
                featured=data["featured"],
                topics=data["topics"],
                slug=data["slug"],
                uploads=attachment_store.from_uploaded_files(data["attachments"]),
                remove_files=[f.pk for f in data.get("remove_files") or ()],
                seen=data["seen"],
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "stale" and article is not None:
                status = 409
                # Saving again replaces the newer text on purpose: the form now starts from it.
                data_now = request.POST.copy()
                data_now["seen"] = services.version_of(Article.objects.get(pk=article.pk))
                form.data = data_now
                form.add_error(None, exc.messages)
            else:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
        except PermissionDenied:
            return _forbidden(request)
        else:
            messages.success(request, _("Article “%(title)s” saved.") % {"title": saved.title})
            return redirect("kb_staff:edit", saved.pk)
    if request.FILES:
        form.add_error("attachments", _("Attach your files again: files are not kept when a form comes back."))
    return render(request, template, {"form": form, "article": article}, status=status)


@require_http_methods(["GET", "POST"])
@agent_required
def article_create(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    if not policy.can_edit_kb(request.user):
        return _forbidden(request)
    return _edit(request, None)


@require_http_methods(["GET", "POST"])
@agent_required
def article_edit(request: AuthenticatedHttpRequest, agent: Agent, pk: int) -> HttpResponse:
    article = _article(pk)
    if article is None:
        return _not_found(request)
    if not policy.can_edit_kb(request.user):
        if request.method == "POST":
            return _forbidden(request)
        return render(request, "kb/staff/read.html", {"article": article})
    return _edit(request, article)


@require_http_methods(["GET", "POST"])
@agent_required
def article_delete(request: AuthenticatedHttpRequest, agent: Agent, pk: int) -> HttpResponse:
    article = _article(pk)
    if article is None:
        return _not_found(request)
    if not policy.can_edit_kb(request.user):
        return _forbidden(request)
    if request.method != "POST":
        return render(request, "kb/staff/delete.html", {"article": article})
    title = article.title
    services.delete_article(request.user, article)
    messages.success(request, _("Article “%(title)s” deleted.") % {"title": title})
    return redirect("kb_staff:list")


@require_POST
@agent_required
def preview(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    """The text as the article will show it (htmx fragment): rendered and sanitised as on save."""
    html, _text = content.from_text(request.POST.get("body", "")[:200_000])
    return render(request, "kb/staff/_preview.html", {"html": html})


# ---------------------------------------------------------------------------- history


@require_GET
@agent_required
def history(request: AuthenticatedHttpRequest, agent: Agent, pk: int) -> HttpResponse:
    article = _article(pk)
    if article is None:
        return _not_found(request)
    versions = list(article.versions.select_related("editor"))
    return render(
        request,
        "kb/staff/history.html",
        {"article": article, "versions": versions, "can_edit": policy.can_edit_kb(request.user)},
    )


@require_http_methods(["GET", "POST"])
@agent_required
def version(request: AuthenticatedHttpRequest, agent: Agent, pk: int, version_id: int) -> HttpResponse:
    article = _article(pk)
    old = ArticleVersion.objects.select_related("editor").filter(pk=version_id, article_id=pk).first()
    if article is None or old is None:
        return _not_found(request)
    if request.method == "POST":
        if not policy.can_edit_kb(request.user):
            return _forbidden(request)
        services.restore_version(request.user, article, old)
        messages.success(
            request, _("The earlier version is the article's text again; the replaced text is in the history.")
        )
        return redirect("kb_staff:history", article.pk)
    html, _text = content.from_text(old.body)
    return render(
        request,
        "kb/staff/version.html",
        {"article": article, "version": old, "html": html, "can_edit": policy.can_edit_kb(request.user)},
    )


# ---------------------------------------------------------------------------- categories


@require_http_methods(["GET", "POST"])
@agent_required
def category_list(request: AuthenticatedHttpRequest, agent: Agent) -> HttpResponse:
    """The category tree, and a form for a new one."""
    if not policy.can_edit_kb(request.user):
        return _forbidden(request)
    return _category_edit(request, None)


@require_http_methods(["GET", "POST"])
@agent_required
def category_edit(request: AuthenticatedHttpRequest, agent: Agent, pk: int) -> HttpResponse:
    category = Category.objects.filter(pk=pk).first()
    if category is None:
        return _not_found(request)
    if not policy.can_edit_kb(request.user):
        return _forbidden(request)
    if request.method == "POST" and request.POST.get("delete"):
        try:
            services.delete_category(request.user, category)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("kb_staff:category", category.pk)
        messages.success(request, _("Category “%(name)s” deleted.") % {"name": category.name})
        return redirect("kb_staff:categories")
    return _category_edit(request, category)


def _category_edit(request: AuthenticatedHttpRequest, category: Category | None) -> HttpResponse:
    categories = list(Category.objects.all())
    offered = [c for c in categories if category is None or c.pk != category.pk]
    ordered, depths = tree_order(categories)
    counts = selectors.article_counts(Article.objects.all())
    context: dict[str, Any] = {
        "category": category,
        "rows": [(c, depths[c.pk], counts.get(c.pk, 0)) for c in ordered],
    }
    if request.method != "POST":
        initial: dict[str, Any] = {"is_public": True, "order": 0}
        if category is not None:
            initial = {
                "name": category.name,
                "parent": category.parent_id,
                "description": category.description,
                "is_public": category.is_public,
                "order": category.order,
                "slug": category.slug,
            }
        context["form"] = CategoryForm(initial=initial, categories=offered)
        return render(request, "kb/staff/categories.html", context)
    form = CategoryForm(request.POST, categories=offered)
    context["form"] = form
    if form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.save_category(
                request.user,
                category,
                name=data["name"],
                parent=data["parent"],
                description=data["description"],
                is_public=data["is_public"],
                order=data["order"] or 0,
                slug=data["slug"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Category “%(name)s” saved.") % {"name": saved.name})
            return redirect("kb_staff:categories")
    return render(request, "kb/staff/categories.html", context, status=400)


# ---------------------------------------------------------------------------- files


@require_GET
@agent_required
def article_file(request: AuthenticatedHttpRequest, agent: Agent, file_id: int) -> HttpResponse | FileResponse:
    stored = ArticleAttachment.objects.filter(pk=file_id).first()
    if stored is None:
        return _not_found(request)
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        return _not_found(request)
    # Always a download from here: a stored file is never shown inline in the workspace.
    answer = FileResponse(handle, as_attachment=True, filename=stored.name, content_type="application/octet-stream")
    answer["X-Content-Type-Options"] = "nosniff"
    answer["Cache-Control"] = "private, max-age=0"
    return answer


# ---------------------------------------------------------------------------- the reply box's picker


def public_url(article: Article) -> str:
    """The article's address on the Help Center, as a customer would open it."""
    base: str = settings.TESSERA["BASE_URL"].rstrip("/")
    return base + reverse("kb:article", args=[article.slug])


def _excerpt(text: str, length: int = 140) -> str:
    line = " ".join(text.split())
    return line if len(line) <= length else line[: length - 1] + "…"


@require_GET
@agent_required
def picker_search(request: AuthenticatedHttpRequest, agent: Agent) -> JsonResponse:
    """Articles matching ?q= (any the agent may read, public first in rank order), or the most
    recently updated ones with no query; each with the link a customer can open (public only)."""
    query = request.GET.get("q", "")[:QUERY_MAX].strip()
    if query:
        articles = [h.article for h in search_query.search(request.user, query, limit=PICKER_LIMIT)]
    else:
        articles = list(
            policy.visible_articles(request.user).select_related("category").order_by("-updated_at")[:PICKER_LIMIT]
        )
    readable_by_customers = {a.pk for a in policy.visible_articles(None).filter(pk__in=[a.pk for a in articles])}
    return JsonResponse(
        {
            "query": query,
            "results": [
                {
                    "id": a.pk,
                    "title": a.title,
                    "excerpt": _excerpt(a.body_text),
                    "public": a.pk in readable_by_customers,
                    "url": public_url(a) if a.pk in readable_by_customers else "",
                }
                for a in articles
            ],
        }
    )


@require_GET
@agent_required
def picker_article(request: AuthenticatedHttpRequest, agent: Agent, pk: int) -> JsonResponse:
    """One article's Markdown text to insert into a reply."""
    article = policy.visible_articles(request.user).filter(pk=pk).first()
    if article is None:
        return JsonResponse({"error": _("This article does not exist.")}, status=404)
    public = policy.can_read_article(None, article)
    return JsonResponse(
        {"id": article.pk, "title": article.title, "body": article.body, "url": public_url(article) if public else ""}
    )
