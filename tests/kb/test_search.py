"""Searching the knowledge base on the tickets' engines (PostgreSQL full text / SQLite FTS5):
words in the text find an article, internal articles are found by agents only, the index follows
every save and delete, and the new-ticket form's suggestions answer only for public articles,
nothing for a short subject, and safely for any input."""

from __future__ import annotations

import pytest

from django.test import Client
from django.urls import reverse

from tessera.kb import search_index, search_query, services

from .conftest import signed_in


def titles(hits) -> list[str]:
    return [h.article.title for h in hits]


def test_words_of_the_text_find_an_article_with_the_words_marked(desk, kb):
    hits = search_query.search(None, "torn paper")
    assert titles(hits) == ["The printer jams on every page"]
    assert "<mark>torn</mark>" in hits[0].snippet and "<mark>paper</mark>" in hits[0].snippet


def test_the_title_weighs_more_than_the_text(desk, kb):
    services.create_article(desk.admin, title="Scanner basics", body="Unlike a printer, a scanner reads paper.")
    assert titles(search_query.search(None, "printer"))[0] == "The printer jams on every page"


def test_internal_articles_are_found_by_agents_only(desk, kb):
    assert titles(search_query.search(None, "vendor")) == []
    assert titles(search_query.search(desk.ken, "vendor")) == []
    assert titles(search_query.search(desk.ken, "toner")) == []  # public, in an internal category
    assert titles(search_query.search(desk.john.user, "vendor")) == ["Escalating a printer fault to the vendor"]
    assert titles(search_query.search(desk.john.user, "vendor", public_only=True)) == []


def test_the_index_follows_edits_and_deletions(desk, kb):
    services.save_article(
        desk.admin, kb.jam, title=kb.jam.title, body="Fan the sheets before loading them.", category=kb.printing
    )
    assert titles(search_query.search(None, "torn")) == []
    assert titles(search_query.search(None, "sheets")) == ["The printer jams on every page"]
    services.delete_article(desk.admin, kb.jam)
    assert titles(search_query.search(None, "sheets")) == []


def test_rebuilding_the_index_finds_the_same(desk, kb):
    assert search_index.rebuild() == 3
    assert titles(search_query.search(None, "torn")) == ["The printer jams on every page"]


def test_prefixes_phrases_and_exclusions_work_as_in_the_ticket_search(desk, kb):
    assert titles(search_query.search(None, "jam*")) == ["The printer jams on every page"]
    assert titles(search_query.search(None, '"front cover"')) == ["The printer jams on every page"]
    assert titles(search_query.search(None, '"cover front"')) == []
    assert titles(search_query.search(None, "printer -tray")) == []


def test_the_portal_search_page_lists_public_matches(desk, kb):
    page = Client().get(reverse("kb:search"), {"q": "printer"}).content.decode()
    assert "The <mark>printer</mark> jams on every page" in page and "vendor" not in page
    assert "1 article found." in page


@pytest.mark.parametrize(
    "hostile",
    [
        "'; DROP TABLE kb_article; --",
        '"unbalanced',
        "NEAR(printer jams)",
        "printer AND OR NOT *",
        "<script>alert(1)</script>",
        "\x00\x02printer\x03",
        "a" * 5000,
        "title:printer",
    ],
)
def test_any_input_is_safe_for_search_and_suggestions(desk, kb, hostile):
    search_query.search(None, hostile)
    for client_query in ({"q": hostile}, {"subject": hostile}):
        answer = Client().get(reverse("kb:suggest"), client_query)
        assert answer.status_code == 200 and "<script>" not in answer.content.decode()
    answer = Client().get(reverse("kb:search"), {"q": hostile})
    assert answer.status_code == 200 and "<script>alert" not in answer.content.decode()


def test_suggestions_find_public_articles_for_a_subject_being_typed(desk, kb):
    html = Client().get(reverse("kb:suggest"), {"subject": "My printer keeps jam"}).content.decode()
    assert "The <mark>printer</mark> <mark>jams</mark> on every page" in html
    assert "?from=new-ticket" in html
    assert "vendor" not in Client().get(reverse("kb:suggest"), {"subject": "vendor serial"}).content.decode()


def test_a_short_or_empty_subject_suggests_nothing(desk, kb):
    for subject in ("", "  ", "pr", "it is", "the and for"):
        assert Client().get(reverse("kb:suggest"), {"subject": subject}).content.decode().strip() == ""


def test_agents_get_only_public_suggestions_too(desk, kb):
    html = signed_in(desk.john).get(reverse("kb:suggest"), {"q": "printer fault vendor"}).content.decode()
    assert "Escalating" not in html and "The <mark>printer</mark> jams" in html


def test_the_reindex_command_rebuilds_a_lost_index(desk, kb):
    from io import StringIO

    from django.core.management import call_command

    search_index.forget_article(kb.jam.pk)
    assert titles(search_query.search(None, "torn")) == []
    out = StringIO()
    call_command("kb_reindex", stdout=out)
    assert "Indexed 3" in out.getvalue()
    assert titles(search_query.search(None, "torn")) == ["The printer jams on every page"]


def test_suggestions_are_rate_limited_per_address(desk, kb, settings):
    settings.TESSERA = {**settings.TESSERA, "KB_SUGGEST_LIMIT_PER_IP": 3}
    for _ in range(3):
        assert Client().get(reverse("kb:suggest"), {"subject": "printer"}).status_code == 200
    refused = Client().get(reverse("kb:suggest"), {"subject": "printer"})
    assert refused.status_code == 429 and refused.content == b"" and int(refused["Retry-After"]) > 0
