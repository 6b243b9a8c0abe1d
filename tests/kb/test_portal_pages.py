"""The knowledge base on the Help Center: what visitors, customers and agents may read (an
internal article or category answers 404 to anyone but the desk's staff), the pages' content,
"did this answer your question?" counted once per visitor session and rate limited per address,
and the suggestion that deflects a ticket counted on the article and on the day."""

from __future__ import annotations

import datetime

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tessera.kb import selectors
from tessera.kb.models import Article, DeflectionDay

from .conftest import signed_in


def article_url(article, **query) -> str:
    url = reverse("kb:article", args=[article.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_home_shows_featured_articles_and_public_categories_only(desk, kb):
    page = Client().get(reverse("kb:home")).content.decode()
    assert "The printer jams on every page" in page and "Featured articles" in page
    assert "Printing" in page and "1 article" in page
    assert "Desk procedures" not in page and "Escalating a printer fault" not in page


def test_an_internal_article_or_category_answers_404_to_visitors_and_customers(desk, kb):
    for client in (Client(), signed_in(desk.ken)):
        assert client.get(article_url(kb.vendor)).status_code == 404
        assert client.get(article_url(kb.hidden_place)).status_code == 404  # public, inside an internal category
        assert client.get(reverse("kb:category", args=[kb.internal.slug])).status_code == 404
        assert client.post(reverse("kb:feedback", args=[kb.vendor.slug]), {"helpful": "yes"}).status_code == 404
        assert client.get(article_url(kb.jam)).status_code == 200
    assert Client().get(reverse("kb:article", args=["no-such-article"])).status_code == 404


def test_agents_read_internal_articles_on_the_help_center_marked_internal(desk, kb):
    page = signed_in(desk.john).get(article_url(kb.vendor))
    assert page.status_code == 200 and "Internal" in page.content.decode()


def test_an_article_page_shows_the_sanitised_text_breadcrumbs_and_counts_a_customer_view(desk, kb):
    page = Client().get(article_url(kb.jam)).content.decode()
    assert "<strong>tray 2</strong>" in page
    assert reverse("kb:category", args=[kb.printing.slug]) in page
    assert 'name="viewport"' in page  # readable on a phone
    signed_in(desk.john).get(article_url(kb.jam))  # the desk's own reading is not counted
    assert Article.objects.get(pk=kb.jam.pk).view_count == 1


def test_a_category_page_lists_its_public_articles(desk, kb):
    page = Client().get(reverse("kb:category", args=[kb.printing.slug])).content.decode()
    assert "The printer jams on every page" in page and "Escalating a printer fault" not in page


def test_helpful_yes_and_no_are_counted_once_per_visitor_session(desk, kb):
    visitor = Client()
    url = reverse("kb:feedback", args=[kb.jam.slug])
    assert visitor.post(url, {"helpful": "yes"}).status_code == 302
    visitor.post(url, {"helpful": "yes"})
    visitor.post(url, {"helpful": "no"})
    Client().post(url, {"helpful": "no"}, HTTP_HX_REQUEST="true")
    jam = Article.objects.get(pk=kb.jam.pk)
    assert (jam.helpful_yes, jam.helpful_no) == (1, 1)
    after = visitor.get(article_url(kb.jam)).content.decode()
    assert "Thank you for your feedback." in after and 'value="yes"' not in after


def test_feedback_by_htmx_answers_with_the_thanks_in_the_box(desk, kb):
    answer = Client().post(reverse("kb:feedback", args=[kb.jam.slug]), {"helpful": "yes"}, HTTP_HX_REQUEST="true")
    html = answer.content.decode()
    assert answer.status_code == 200 and 'id="kb-feedback"' in html and "glad it helped" in html


def test_a_nonsense_vote_is_refused_and_counts_nothing(desk, kb):
    answer = Client().post(reverse("kb:feedback", args=[kb.jam.slug]), {"helpful": "maybe"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 400 and "Choose Yes or No" in answer.content.decode()
    assert Article.objects.filter(helpful_yes=0, helpful_no=0).count() == 3


def test_feedback_is_rate_limited_per_address_with_a_clear_message(desk, kb, settings):
    settings.TESSERA = {**settings.TESSERA, "KB_FEEDBACK_LIMIT_PER_IP": 2}
    url = reverse("kb:feedback", args=[kb.jam.slug])
    for _ in range(2):
        assert Client().post(url, {"helpful": "yes"}, HTTP_HX_REQUEST="true").status_code == 200
    refused = Client().post(url, {"helpful": "yes"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 429 and "Try again in" in refused.content.decode()
    assert Article.objects.get(pk=kb.jam.pk).helpful_yes == 2
    elsewhere = Client(REMOTE_ADDR="192.0.2.9").post(url, {"helpful": "yes"}, HTTP_HX_REQUEST="true")
    assert elsewhere.status_code == 200


def test_feedback_needs_the_csrf_token(desk, kb):
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("kb:feedback", args=[kb.jam.slug]), {"helpful": "yes"}).status_code == 403
    assert Article.objects.get(pk=kb.jam.pk).helpful_yes == 0


def test_a_suggestion_deflects_a_ticket_and_the_counters_show_it(desk, kb, writers):
    """The issue's requirement: a visitor typing a subject is offered the article, opens it from
    the suggestion, says it answered their question; the article and the day count one ticket not
    needed, and the workspace's knowledge base page shows it."""
    visitor = Client()
    suggestions = visitor.get(reverse("kb:suggest"), {"subject": "printer jams"}).content.decode()
    link = article_url(kb.jam, **{"from": "new-ticket"})
    assert link in suggestions
    page = visitor.get(link).content.decode()
    assert "I don&#x27;t need a ticket" in page or "I don't need a ticket" in page
    assert "I don" not in visitor.get(article_url(kb.jam)).content.decode()  # only when coming from the form
    answered = visitor.post(reverse("kb:answered", args=[kb.jam.slug]), {"from": "new-ticket"}, HTTP_HX_REQUEST="true")
    assert answered.status_code == 200 and "glad you found your answer" in answered.content.decode()
    visitor.post(reverse("kb:answered", args=[kb.jam.slug]))  # twice in one session: once
    assert Article.objects.get(pk=kb.jam.pk).deflections == 1
    today = timezone.now().astimezone(datetime.UTC).date()
    assert DeflectionDay.objects.get(day=today).count == 1
    Client().post(reverse("kb:answered", args=[kb.jam.slug]))  # another visitor
    assert selectors.deflection_totals().all_time == 2
    staff_page = signed_in(writers.mia).get(reverse("kb_staff:list")).content.decode()
    assert '<dd id="kb-deflections-total">2</dd>' in staff_page


def test_the_new_ticket_form_carries_the_suggestion_slot_under_the_subject(desk, kb):
    page = Client().get(reverse("portal:home")).content.decode()
    subject_at = page.index('id="id_subject"')
    slot_at = page.index('id="kb-suggestions"')
    assert subject_at < slot_at < page.index('id="id_message"')
    slot = page[slot_at - 200 : slot_at + 400]
    assert 'aria-live="polite"' in slot and "delay:300ms" in slot and reverse("kb:suggest") in slot


def test_the_portal_navigation_links_the_help_articles(desk):
    assert reverse("kb:home") in Client().get(reverse("portal:home")).content.decode()


def test_an_article_file_is_served_as_a_download_and_never_to_whom_cannot_read_the_article(desk, kb):
    from tessera.kb import services
    from tessera.tickets.attachments import Upload

    public = services.save_article(
        desk.admin,
        kb.jam,
        title=kb.jam.title,
        body=kb.jam.body,
        category=kb.printing,
        uploads=[Upload("page.html", b"<script>alert(1)</script>", "text/html")],
    )
    internal = services.save_article(
        desk.admin,
        kb.vendor,
        title=kb.vendor.title,
        body=kb.vendor.body,
        is_public=False,
        uploads=[Upload("serials.txt", b"secret", "text/plain")],
    )
    file_url = reverse("kb:file", args=[public.slug, public.attachments.get().pk])
    answer = Client().get(file_url)
    assert answer.status_code == 200 and answer["Content-Type"] == "application/octet-stream"
    assert answer["Content-Disposition"].startswith("attachment") and answer["X-Content-Type-Options"] == "nosniff"
    secret = internal.attachments.get().pk
    assert Client().get(reverse("kb:file", args=[internal.slug, secret])).status_code == 404
    # Another article's file through a readable article's address: 404 as well.
    assert Client().get(reverse("kb:file", args=[public.slug, secret])).status_code == 404
    assert signed_in(desk.john).get(reverse("kb:file", args=[internal.slug, secret])).status_code == 200
