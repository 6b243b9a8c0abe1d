"""Writing articles (kb.services): every edit keeps what it replaced, an old version can be
restored, hostile Markdown and HTML come out harmless, refused files leave nothing behind, and
who may write is the policy's answer."""

from __future__ import annotations

import pytest

from django.core.exceptions import PermissionDenied, ValidationError

from tessera.kb import services
from tessera.kb.models import Article, ArticleAttachment, ArticleVersion, Category
from tessera.tickets.attachments import Upload


def test_every_edit_keeps_the_previous_version_with_its_writer_and_time(desk, writers):
    mia = writers.mia.user
    article = services.create_article(desk.admin, title="Reset a password", body="Use the link.")
    first_written = article.updated_at
    article = services.save_article(mia, article, title="Reset your password", body="Use the link we email.")
    article = services.save_article(mia, article, title="Reset your password", body="Use the link; it lasts an hour.")
    versions = list(article.versions.order_by("written_at", "pk"))
    assert [(v.title, v.body, v.editor) for v in versions] == [
        ("Reset a password", "Use the link.", desk.admin),
        ("Reset your password", "Use the link we email.", mia),
    ]
    assert versions[0].written_at == first_written
    assert (article.title, article.body, article.updated_by) == (
        "Reset your password",
        "Use the link; it lasts an hour.",
        mia,
    )


def test_saving_without_a_change_to_the_text_keeps_no_version(desk):
    article = services.create_article(desk.admin, title="VPN", body="Connect.")
    services.save_article(desk.admin, article, title="VPN", body="Connect.", featured=True)
    assert not ArticleVersion.objects.exists()
    assert Article.objects.get().featured


def test_restoring_a_version_makes_it_current_and_keeps_the_replaced_text(desk):
    article = services.create_article(desk.admin, title="VPN", body="Old way.")
    article = services.save_article(desk.admin, article, title="VPN (new)", body="New way.")
    old = article.versions.get()
    article = services.restore_version(desk.admin, article, old)
    assert (article.title, article.body) == ("VPN", "Old way.")
    assert sorted(article.versions.values_list("body", flat=True)) == ["New way.", "Old way."]
    assert "Old way." in article.body_html


def test_a_version_of_another_article_cannot_be_restored(desk):
    one = services.create_article(desk.admin, title="One", body="1")
    one = services.save_article(desk.admin, one, title="One", body="1b")
    two = services.create_article(desk.admin, title="Two", body="2")
    with pytest.raises(ValidationError):
        services.restore_version(desk.admin, two, one.versions.get())


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script> Hello",
        "[click me](javascript:alert(1))",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        "![x](javascript:alert(1))",
        '<iframe src="https://evil.example"></iframe>',
    ],
)
def test_hostile_markdown_and_html_are_rendered_harmless(desk, hostile):
    article = services.create_article(desk.admin, title="<b>Title</b>", body=hostile)
    tags = _tags(article.body_html)
    assert not {name for name, _attrs in tags} & {"script", "iframe", "object", "embed", "style"}
    for _name, attrs in tags:
        assert not any(key.startswith("on") for key, _value in attrs)
        assert not any((value or "").strip().lower().startswith("javascript") for _key, value in attrs)
    assert article.title == "<b>Title</b>"  # kept as typed; templates escape it


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every element the browser would build from this HTML, with its attributes."""
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def test_markdown_formatting_survives_sanitising(desk):
    article = services.create_article(
        desk.admin, title="Fmt", body="# Heading\n\n**bold** and [a link](https://example.com)\n\n- one\n- two"
    )
    assert "<strong>bold</strong>" in article.body_html
    assert 'href="https://example.com"' in article.body_html and "<li>one</li>" in article.body_html
    assert "bold" in article.body_text and "**" not in article.body_text


def test_a_program_or_an_oversized_file_is_refused_and_nothing_is_saved(desk, settings):
    program = Upload("manual.pdf", b"\x7fELF" + b"\0" * 60, "application/pdf")
    with pytest.raises(ValidationError) as refused:
        services.create_article(desk.admin, title="Guide", body="Read it.", uploads=[program])
    assert "program" in str(refused.value)
    settings.TESSERA = {**settings.TESSERA, "MAX_ATTACHMENT_BYTES": 10}
    with pytest.raises(ValidationError):
        services.create_article(desk.admin, title="Guide", body="Read it.", uploads=[Upload("big.txt", b"x" * 11)])
    with pytest.raises(ValidationError):
        services.create_article(desk.admin, title="Guide", body="Read it.", uploads=[Upload("run.exe", b"hi")])
    assert not Article.objects.exists() and not ArticleAttachment.objects.exists()


def test_files_are_stored_with_a_safe_name_and_can_be_removed(desk):
    article = services.create_article(
        desk.admin, title="Guide", body="Read it.", uploads=[Upload("../../etc/guide.txt", b"text", "text/plain")]
    )
    stored = article.attachments.get()
    assert stored.name == "guide.txt" and stored.size == 4
    services.save_article(desk.admin, article, title="Guide", body="Read it.", remove_files=[stored.pk])
    assert not ArticleAttachment.objects.exists()


def test_an_agent_without_the_knowledge_base_right_cannot_write(desk, writers):
    with pytest.raises(PermissionDenied):
        services.create_article(desk.john.user, title="Mine", body="Text")
    with pytest.raises(PermissionDenied):
        services.save_category(desk.john.user, None, name="Mine")
    with pytest.raises(PermissionDenied):
        services.create_article(desk.ken, title="Mine", body="Text")
    assert services.create_article(writers.mia.user, title="Mine", body="Text").created_by == writers.mia.user


def test_addresses_are_made_from_titles_and_kept_unique(desk):
    one = services.create_article(desk.admin, title="Printer jams!", body="1")
    two = services.create_article(desk.admin, title="Printer jams?", body="2")
    assert (one.slug, two.slug) == ("printer-jams", "printer-jams-2")
    with pytest.raises(ValidationError) as taken:
        services.save_article(desk.admin, two, title="x", body="2", slug="printer-jams")
    assert "slug" in taken.value.message_dict
    with pytest.raises(ValidationError):
        services.create_article(desk.admin, title="x", body="y", slug="Not A Slug")


def test_a_category_cannot_move_inside_itself_and_only_an_empty_one_is_deleted(desk):
    top = services.save_category(None, None, name="Top")
    below = services.save_category(None, None, name="Below", parent=top)
    with pytest.raises(ValidationError):
        services.save_category(None, top, name="Top", parent=below)
    services.create_article(None, title="In below", body="x", category=below)
    with pytest.raises(ValidationError):
        services.delete_category(desk.admin, top)
    assert Category.objects.count() == 2


def test_the_demo_desk_gets_categories_and_articles(desk):
    from tessera.kb.demo import add_demo_articles

    add_demo_articles(lambda line: None)
    assert Category.objects.filter(is_public=False).exists()
    assert Article.objects.filter(is_public=True, featured=True).count() >= 2
    assert Article.objects.filter(is_public=False).exists()
    add_demo_articles(lambda line: None)  # again: nothing doubled
    assert Category.objects.count() == 4


def test_the_manager_role_writes_the_knowledge_base_and_the_migration_grants_canned_managers(desk):
    import importlib

    from django.apps import apps as global_apps

    from tessera.accounts.models import Role

    assert "kb" in Role.objects.get(name="Manager").permissions
    assert "kb" not in Role.objects.get(name="Agent").permissions
    custom = Role.objects.create(name="Canned only", permissions=["view", "canned"])
    migration = importlib.import_module("tessera.kb.migrations.0002_kb_permission_for_canned_managers")
    migration.grant(global_apps, None)
    custom.refresh_from_db()
    assert custom.permissions == ["view", "canned", "kb"]
    assert "kb" not in Role.objects.get(name="Observer").permissions


def test_seed_demo_loads_the_knowledge_base_findable_on_the_help_center(db):
    from io import StringIO

    from django.core.management import call_command

    from tessera.accounts.models import Role
    from tessera.kb import search_query
    from tessera.tickets.defaults import ensure_defaults
    from tessera.tickets.models import Priority, Status

    ensure_defaults(Priority, Status, Role)
    call_command("seed_demo", stdout=StringIO())
    assert Article.objects.filter(is_public=True).count() >= 4
    assert [h.article.title for h in search_query.suggest("my printer jams")] == ["The printer jams on every page"]
