"""The knowledge base in the workspace: writing through the form (typed text kept on errors),
the history with an old version shown and restored, categories, what an agent without the right
sees, and the reply box's picker (JSON, lazily loaded: the ticket page pays no query for it)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tessera.kb import services
from tessera.kb.models import Article, Category

from .conftest import signed_in


def form(**overrides):
    data = {"title": "Reset your password", "body": "Use **Forgot your password?**", "is_public": "on"}
    data.update(overrides)
    return data


def test_a_writer_creates_an_article_with_a_file_and_topics(desk, writers, kb):
    client = signed_in(writers.mia)
    answer = client.post(
        reverse("kb_staff:create"),
        form(
            category=kb.printing.pk,
            topics=[desk.general.pk],
            attachments=SimpleUploadedFile("steps.txt", b"1. 2. 3.", "text/plain"),
        ),
    )
    saved = Article.objects.get(title="Reset your password")
    assert answer.status_code == 302 and answer["Location"] == reverse("kb_staff:edit", args=[saved.pk])
    assert saved.created_by == writers.mia.user and saved.category == kb.printing
    assert list(saved.topics.all()) == [desk.general] and saved.attachments.get().name == "steps.txt"
    assert "<strong>Forgot your password?</strong>" in saved.body_html


def test_an_invalid_article_comes_back_with_what_was_typed(desk, writers):
    answer = signed_in(writers.mia).post(reverse("kb_staff:create"), form(title="", body="Typed text stays."))
    html = answer.content.decode()
    assert answer.status_code == 400 and "Give the article a title." in html and "Typed text stays." in html
    assert not Article.objects.exists()


def test_a_refused_file_is_named_and_nothing_is_saved(desk, writers):
    answer = signed_in(writers.mia).post(
        reverse("kb_staff:create"), form(attachments=SimpleUploadedFile("setup.exe", b"MZ", "application/x-msdownload"))
    )
    assert answer.status_code == 400 and "setup.exe" in answer.content.decode()
    assert not Article.objects.exists()


def test_editing_keeps_a_version_the_history_shows_and_restores(desk, writers, kb):
    client = signed_in(writers.mia)
    url = reverse("kb_staff:edit", args=[kb.jam.pk])
    client.post(url, form(title="Paper jams", body="New text.", category=kb.printing.pk))
    history = client.get(reverse("kb_staff:history", args=[kb.jam.pk])).content.decode()
    assert "Paper jams" in history and "The printer jams on every page" in history
    old = kb.jam.versions.get()
    shown = client.get(reverse("kb_staff:version", args=[kb.jam.pk, old.pk])).content.decode()
    assert "<strong>tray 2</strong>" in shown and "Restore this version" in shown
    client.post(reverse("kb_staff:version", args=[kb.jam.pk, old.pk]))
    kb.jam.refresh_from_db()
    assert kb.jam.title == "The printer jams on every page" and kb.jam.versions.count() == 2


def test_a_version_of_another_article_answers_404(desk, writers, kb):
    services.save_article(desk.admin, kb.vendor, title="x", body="y", is_public=False)
    other = kb.vendor.versions.get()
    client = signed_in(writers.mia)
    assert client.get(reverse("kb_staff:version", args=[kb.jam.pk, other.pk])).status_code == 404
    assert client.post(reverse("kb_staff:version", args=[kb.jam.pk, other.pk])).status_code == 404


def test_an_agent_without_the_right_reads_but_cannot_write(desk, kb):
    john = signed_in(desk.john)
    listing = john.get(reverse("kb_staff:list")).content.decode()
    assert "Escalating a printer fault" in listing and reverse("kb_staff:create") not in listing
    read = john.get(reverse("kb_staff:edit", args=[kb.vendor.pk]))
    assert read.status_code == 200 and 'name="body"' not in read.content.decode()
    assert "Editing articles needs a role that grants it." in read.content.decode()
    assert john.post(reverse("kb_staff:edit", args=[kb.jam.pk]), form()).status_code == 403
    assert john.get(reverse("kb_staff:create")).status_code == 403
    assert john.post(reverse("kb_staff:delete", args=[kb.jam.pk])).status_code == 403
    assert john.post(reverse("kb_staff:categories"), {"name": "Mine"}).status_code == 403
    old_versions = kb.jam.versions.count()
    assert Article.objects.get(pk=kb.jam.pk).title == "The printer jams on every page"
    assert kb.jam.versions.count() == old_versions and not Category.objects.filter(name="Mine").exists()
    assert signed_in(desk.ken).get(reverse("kb_staff:list")).status_code == 403


def test_the_list_searches_filters_by_category_and_shows_the_tree(desk, writers, kb):
    client = signed_in(writers.mia)
    found = client.get(reverse("kb_staff:list"), {"q": "vendor"}).content.decode()
    assert "<mark>vendor</mark>" in found
    in_internal = client.get(reverse("kb_staff:list"), {"category": kb.internal.pk}).content.decode()
    assert "Toner stock procedure" in in_internal and "The printer jams on every page" not in in_internal


def test_categories_are_created_nested_and_an_empty_one_deleted(desk, writers, kb):
    client = signed_in(writers.mia)
    assert client.post(reverse("kb_staff:categories"), {"name": "Lasers", "parent": kb.printing.pk}).status_code == 302
    lasers = Category.objects.get(name="Lasers")
    assert lasers.parent == kb.printing and not lasers.is_public  # unticked box: internal
    refused = client.post(reverse("kb_staff:category", args=[kb.printing.pk]), {"delete": "1"}, follow=True)
    assert "Move this category" in refused.content.decode()
    client.post(reverse("kb_staff:category", args=[lasers.pk]), {"delete": "1"})
    assert not Category.objects.filter(name="Lasers").exists()


def test_the_preview_renders_and_sanitises_like_a_save(desk, writers):
    html = (
        signed_in(writers.mia)
        .post(reverse("kb_staff:preview"), {"body": "**bold** <script>x</script>"})
        .content.decode()
    )
    assert "<strong>bold</strong>" in html and "<script>" not in html


def test_the_picker_finds_articles_with_a_public_link_for_public_ones_only(desk, kb):
    john = signed_in(desk.john)
    results = john.get(reverse("kb_staff:picker"), {"q": "printer"}).json()["results"]
    by_title = {r["title"]: r for r in results}
    jam = by_title["The printer jams on every page"]
    assert jam["public"] and jam["url"].endswith(reverse("kb:article", args=[kb.jam.slug]))
    assert by_title["Escalating a printer fault to the vendor"]["url"] == ""
    body = john.get(reverse("kb_staff:picker_article", args=[kb.jam.pk])).json()
    assert body["body"].startswith("Open the front cover") and body["url"] == jam["url"]
    assert john.get(reverse("kb_staff:picker_article", args=[999999])).status_code == 404
    assert len(john.get(reverse("kb_staff:picker")).json()["results"]) == 3


def test_the_reply_box_offers_the_picker_and_the_ticket_page_pays_no_query_for_it(desk, kb, ken_ticket):
    john = signed_in(desk.john)
    url = reverse("staff:ticket", args=[ken_ticket.number])
    john.get(url)  # once first: the process memos fill
    with CaptureQueriesContext(connection) as few:
        page = john.get(url).content.decode()
    assert 'id="kb-picker-root"' in page and reverse("kb_staff:picker") in page
    for n in range(20):
        services.create_article(desk.admin, title=f"More {n}", body="Text", featured=True)
    with CaptureQueriesContext(connection) as many:
        john.get(url)
    assert len(many) == len(few)
    assert not any("kb_" in q["sql"] for q in many.captured_queries)


def test_the_knowledge_base_pages_cost_the_same_queries_with_more_articles(desk, writers, kb):
    from django.test import Client

    client = signed_in(writers.mia)
    urls = [
        (client, reverse("kb_staff:list")),
        (client, reverse("kb_staff:list") + "?q=printer"),
        (client, reverse("kb_staff:picker") + "?q=printer"),
        (Client(), reverse("kb:home")),
        (Client(), reverse("kb:search") + "?q=printer"),
        (Client(), reverse("kb:suggest") + "?q=printer"),
    ]

    def count() -> list[int]:
        sizes = []
        for who, url in urls:
            with CaptureQueriesContext(connection) as captured:
                assert who.get(url).status_code == 200
            sizes.append(len(captured))
        return sizes

    count()
    few = count()
    for n in range(15):
        services.create_article(
            desk.admin, title=f"Printer tip {n}", body="printer", category=kb.printing, featured=True
        )
    assert count() == few


def test_the_workspace_links_the_knowledge_base(desk):
    page = signed_in(desk.john).get(reverse("staff:dashboard")).content.decode()
    assert reverse("kb_staff:list") in page


def test_a_save_over_someone_elses_newer_edit_is_refused_and_keeps_the_typed_text(desk, writers, kb):
    client = signed_in(writers.mia)
    url = reverse("kb_staff:edit", args=[kb.jam.pk])
    page = client.get(url).content.decode()
    seen = page.split('name="seen" value="')[1].split('"')[0]
    services.save_article(desk.admin, kb.jam, title="Admin's title", body="Admin's text.", category=kb.printing)
    stale = client.post(url, form(title="Mia's title", body="Mia's text.", category=kb.printing.pk, seen=seen))
    html = stale.content.decode()
    assert stale.status_code == 409 and "Someone saved this article" in html and "Mia&#x27;s text." in html
    assert Article.objects.get(pk=kb.jam.pk).title == "Admin's title"
    fresh = html.split('name="seen" value="')[1].split('"')[0]
    again = client.post(url, form(title="Mia's title", body="Mia's text.", category=kb.printing.pk, seen=fresh))
    assert again.status_code == 302 and Article.objects.get(pk=kb.jam.pk).title == "Mia's title"
    assert set(kb.jam.versions.values_list("title", flat=True)) == {"The printer jams on every page", "Admin's title"}
