"""The knowledge base on the Help Center (/kb/): its home, categories, articles, search, the
suggestions under the new-ticket form's subject, and what visitors tell us (did it answer,
and "I don't need a ticket").

Anything the visitor may not read answers 404, the same as what does not exist. Feedback is
counted once per visitor session and article, and rate limited per address (tessera.ratelimit).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST

from tessera import ratelimit
from tessera.staff.access import INLINE_IMAGE_TYPES

from . import policy, search_query, selectors, services
from .models import Article, Category

QUERY_MAX = 256
VOTED_KEY = "kb.voted"
ANSWERED_KEY = "kb.answered"
SESSION_MEMORY = 200  # article ids remembered per visitor session
FROM_NEW_TICKET = "new-ticket"
# A downloaded file is a document of its own: no scripts, no plugins, no same-origin powers
# (the portal's ticket files are served the same way).
FILE_CSP: Mapping[str, Collection[str] | str] = {"default-src": ["'none'"], "img-src": ["'self'"], "sandbox": True}  # type: ignore[dict-item]


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "kb/not_found.html", status=404)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    categories = policy.visible_categories(request.user)
    counts = selectors.article_counts(policy.visible_articles(request.user, categories))
    context = {
        "tree": selectors.category_tree(categories, counts),
        "featured": selectors.featured(request.user, categories),
        "uncategorised": counts.get(None, 0),
    }
    return render(request, "kb/home.html", context)


@require_GET
def category(request: HttpRequest, slug: str) -> HttpResponse:
    categories = policy.visible_categories(request.user)
    found = next((c for c in categories if c.slug == slug), None)
    if found is None:
        return _not_found(request)
    visible = policy.visible_articles(request.user, categories)
    context = {
        "category": found,
        "parents": selectors.ancestors(found, categories),
        "children": [c for c in categories if c.parent_id == found.pk],
        "articles": list(visible.filter(category=found).order_by("-featured", "title", "pk")),
    }
    return render(request, "kb/category.html", context)


@require_GET
def article(request: HttpRequest, slug: str) -> HttpResponse:
    found = selectors.readable_article(request.user, slug)
    if found is None:
        return _not_found(request)
    if not policy.reads_internal(request.user):
        services.count_view(found)  # what customers read; the desk's own reading is not counted
    return render(request, "kb/article.html", _article_context(request, found))


def _article_context(request: HttpRequest, found: Article, **extra: object) -> dict[str, object]:
    categories: list[Category] = policy.visible_categories(request.user) if found.category_id else []
    return {
        "article": found,
        "parents": [*selectors.ancestors(found.category, categories), found.category] if found.category else [],
        "from_new_ticket": request.GET.get("from") == FROM_NEW_TICKET or extra.get("from_new_ticket", False),
        "voted": found.pk in request.session.get(VOTED_KEY, []),
        "answered": found.pk in request.session.get(ANSWERED_KEY, []),
        **extra,
    }


def _remember(request: HttpRequest, key: str, article_id: int) -> bool:
    """Note in the visitor's session that they did this for the article; False if they had."""
    seen: list[int] = list(request.session.get(key, []))
    if article_id in seen:
        return False
    request.session[key] = [*seen, article_id][-SESSION_MEMORY:]
    return True


def _limited(request: HttpRequest) -> int:
    """Seconds to wait when this address has sent too much feedback lately (0: go ahead)."""
    decision = ratelimit.hit(
        "kb-feedback",
        ratelimit.client_ip(request),
        limit=settings.TESSERA.get("KB_FEEDBACK_LIMIT_PER_IP", 30),
        window=3600,
    )
    return 0 if decision.allowed else decision.retry_after


def _answer(request: HttpRequest, found: Article, fragment: str, notice: str, *, status: int = 200) -> HttpResponse:
    """The feedback box again (htmx), or the article with a message (a plain form post)."""
    from_new_ticket = request.POST.get("from") == FROM_NEW_TICKET
    if request.headers.get("HX-Request"):
        fresh = Article.objects.get(pk=found.pk)
        context = _article_context(request, fresh, notice=notice, from_new_ticket=from_new_ticket)
        return render(request, fragment, context, status=status)
    (messages.error if status >= 400 else messages.success)(request, notice)
    url = reverse("kb:article", args=[found.slug]) + (f"?from={FROM_NEW_TICKET}" if from_new_ticket else "")
    return redirect(url)


@require_POST
def feedback(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Did this answer your question?" Yes or No, once per visitor session."""
    found = selectors.readable_article(request.user, slug)
    if found is None:
        return _not_found(request)
    helpful = request.POST.get("helpful")
    if helpful not in ("yes", "no"):
        return _answer(request, found, "kb/_feedback.html", _("Choose Yes or No."), status=400)
    if wait := _limited(request):
        notice = _("Too much feedback from your network just now. Try again in %(minutes)d minutes.") % {
            "minutes": max(1, wait // 60)
        }
        return _answer(request, found, "kb/_feedback.html", notice, status=429)
    if _remember(request, VOTED_KEY, found.pk):
        services.count_vote(found, helpful=helpful == "yes")
    notice = (
        _("Thank you: we are glad it helped.")
        if helpful == "yes"
        else _("Thank you for telling us. If you still need help, open a ticket and we will answer.")
    )
    return _answer(request, found, "kb/_feedback.html", notice)


@require_POST
def answered(request: HttpRequest, slug: str) -> HttpResponse:
    """ "This answered my question, I don't need a ticket": a ticket deflected, once per session."""
    found = selectors.readable_article(request.user, slug)
    if found is None:
        return _not_found(request)
    if wait := _limited(request):
        notice = _("Too much feedback from your network just now. Try again in %(minutes)d minutes.") % {
            "minutes": max(1, wait // 60)
        }
        return _answer(request, found, "kb/_answered.html", notice, status=429)
    if _remember(request, ANSWERED_KEY, found.pk):
        services.count_deflection(found)
    return _answer(request, found, "kb/_answered.html", _("Thank you. We are glad you found your answer."))


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:QUERY_MAX].strip()
    hits = search_query.search(request.user, query) if query else []
    return render(request, "kb/search.html", {"query": query, "hits": hits})


@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    """Public articles for a new ticket's subject as it is typed (a fragment for htmx)."""
    subject = (request.GET.get("q") or request.GET.get("subject") or "")[:QUERY_MAX]
    # Generous (a person types a few hundred subjects a day at most), but a script cannot use
    # the form as a free search engine: over the limit the box simply stays empty.
    decision = ratelimit.hit(
        "kb-suggest",
        ratelimit.client_ip(request),
        limit=settings.TESSERA.get("KB_SUGGEST_LIMIT_PER_IP", 300),
        window=600,
    )
    if not decision.allowed:
        return HttpResponse("", status=429, headers={"Retry-After": str(decision.retry_after)})
    hits = search_query.suggest(subject)
    return render(request, "kb/_suggestions.html", {"hits": hits, "from": FROM_NEW_TICKET})


@csp_override(FILE_CSP)
@require_GET
def article_file(request: HttpRequest, slug: str, file_id: int) -> HttpResponse | FileResponse:
    found = selectors.readable_article(request.user, slug)
    stored = None if found is None else next((f for f in found.attachments.all() if f.pk == file_id), None)
    if stored is None:
        return _not_found(request)
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        return _not_found(request)
    content_type = stored.content_type if stored.content_type in INLINE_IMAGE_TYPES else "application/octet-stream"
    answer = FileResponse(
        handle,
        as_attachment=content_type not in INLINE_IMAGE_TYPES,
        filename=stored.name,
        content_type=content_type,
    )
    answer["X-Content-Type-Options"] = "nosniff"
    answer["Cache-Control"] = "private, no-store"
    return answer
