"""osTicket's FAQs and their categories, files and help topics, written into a crafted source the
way osTicket writes them (the lab dump has none), and osTicket's organisation primary contacts."""

from __future__ import annotations

import hashlib

import pytest

from tessera.accounts.models import Organization, User
from tessera.importer.models import IdMap
from tessera.importer.report import IMPORTED, NOT_IMPORTED, UNCHANGED, UPDATED
from tessera.kb.models import Article, ArticleVersion, Category
from tessera.kb.search_query import search
from tessera.tickets import policy

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a small guide\n" + b"x" * 200


def article_of(faq_id: int) -> Article:
    return Article.objects.get(pk=IdMap.objects.get(source_table="faq", source_id=faq_id).target_id)


def faq(crafted, category: int, question: str, answer: str, *, published: int = 1, keywords: str = "") -> int:
    return crafted.sql(
        "INSERT INTO ost_faq (category_id, ispublished, question, answer, keywords, notes, created, updated) "
        "VALUES (%s, %s, %s, %s, %s, %s, '2023-05-01 10:00:00', '2023-06-01 10:00:00')",
        [category, published, question, answer, keywords, "Only for agents: ask Bob"],
    )


@pytest.fixture
def kb_source(crafted):
    """Two categories (an internal one inside a public one), three FAQs: a public one with a
    file, a topic and a script in its answer, a featured one, an unpublished one."""
    top = crafted.sql(
        "INSERT INTO ost_faq_category (category_pid, ispublic, name, description, notes, created, updated) "
        "VALUES (NULL, 1, 'Accounts', '<p>Signing in and out</p>', '', NOW(), NOW())"
    )
    inner = crafted.sql(
        "INSERT INTO ost_faq_category (category_pid, ispublic, name, description, notes, created, updated) "
        "VALUES (%s, 0, 'Desk only', '', 'agents', NOW(), NOW())",
        [top],
    )
    password = faq(
        crafted,
        top,
        "How do I reset my password?",
        "<p>Open <b>Settings</b> and choose <a href='https://example.net/reset'>Reset</a>.</p>"
        "<script>alert('owned')</script><p onclick=\"steal()\">Then sign in again.</p>",
        keywords="password, login",
    )
    featured = faq(crafted, top, "Where is my invoice?", "<p>Under Billing.</p>", published=2)
    hidden = faq(crafted, inner, "Escalation rota", "<p>Call the duty manager.</p>", published=0)
    file_id = crafted.sql(
        "INSERT INTO ost_file (ft, bk, type, size, `key`, signature, name, created) "
        "VALUES ('T', 'D', 'application/pdf', %s, 'faqkey01', 'sig', 'guide.pdf', NOW())",
        [len(PDF)],
    )
    crafted.sql("INSERT INTO ost_file_chunk (file_id, chunk_id, filedata) VALUES (%s, 0, %s)", [file_id, PDF])
    crafted.sql(
        "INSERT INTO ost_attachment (object_id, type, file_id, inline) VALUES (%s, 'F', %s, 0)", [password, file_id]
    )
    crafted.sql("INSERT INTO ost_faq_topic (faq_id, topic_id) VALUES (%s, 11), (%s, 999)", [password, password])
    crafted.ids = {"top": top, "inner": inner, "password": password, "featured": featured, "hidden": hidden}
    return crafted


def test_faqs_come_over_as_articles_with_their_category_file_and_topic(kb_source, run):
    report = run(kb_source)
    ids = kb_source.ids

    assert report.tables["faq"].counts[IMPORTED] == 3
    assert report.tables["faq_category"].counts[IMPORTED] == 2
    top = Category.objects.get(name="Accounts")
    inner = Category.objects.get(name="Desk only")
    assert top.is_public and top.description == "Signing in and out"
    assert inner.parent == top and not inner.is_public

    article = article_of(ids["password"])
    assert article.title == "How do I reset my password?"
    assert article.category == top and article.is_public and not article.featured
    assert "Settings" in article.body and "https://example.net/reset" in article.body
    assert "Keywords: password, login" in article.body
    for hostile in ("<script", "alert(", "onclick", "steal()"):
        assert hostile not in article.body and hostile not in article.body_html
    assert article.created_at.year == 2023 and article.created_at.month == 5
    assert article.updated_at.month == 6
    [file] = article.attachments.all()
    assert file.name == "guide.pdf" and file.sha256 == hashlib.sha256(PDF).hexdigest()
    assert list(article.topics.values_list("name", flat=True)) == ["Report a Problem / Access Issue"]
    assert "a help topic it names was not imported" in "\n".join(report.tables["faq_topic"].notes)
    assert "internal notes: Only for agents: ask Bob" in "\n".join(report.tables["faq"].notes)

    assert article_of(ids["featured"]).featured
    hidden = article_of(ids["hidden"])
    assert not hidden.is_public and hidden.category == inner

    # The search index is written with the article: the portal finds the public one only.
    assert [hit.article.pk for hit in search(None, "password", public_only=True)] == [article.pk]
    assert search(None, "rota", public_only=True) == []

    assert report.tables["attachment"].counts[NOT_IMPORTED] == 0
    assert report.tables["faq_topic"].counts[IMPORTED] == 2


def test_a_second_run_changes_nothing_and_an_edited_faq_is_updated(kb_source, run):
    ids = kb_source.ids
    run(kb_source)
    again = run(kb_source)
    assert again.tables["faq"].counts[UNCHANGED] == 3
    assert again.tables["faq_category"].counts[UNCHANGED] == 2
    assert Article.objects.count() == 3 and ArticleVersion.objects.count() == 0

    kb_source.sql(
        "UPDATE ost_faq SET answer = '<p>Use the <i>Forgot password</i> link.</p>', ispublished = 0, "
        "updated = '2024-01-02 10:00:00' WHERE faq_id = %s",
        [ids["password"]],
    )
    third = run(kb_source)
    assert third.tables["faq"].counts[UPDATED] == 1 and third.tables["faq"].counts[UNCHANGED] == 2
    article = article_of(ids["password"])
    assert "Forgot password" in article.body and not article.is_public
    assert article.attachments.count() == 1  # the same file, not a second copy
    assert ArticleVersion.objects.get(article=article).body.startswith("Open Settings")
    admin = User.objects.filter(is_superuser=True).first()  # osTicket's administrator, imported
    assert [hit.article.pk for hit in search(admin, "forgot")] == [article.pk]
    assert search(None, "forgot", public_only=True) == []


def test_primary_contacts_become_organisation_managers(crafted, run):
    crafted.sql(
        "INSERT INTO ost_organization (id, name, manager, status, domain, created) VALUES "
        "(1, 'Primary', '', 8, '', NOW()), (2, 'Everyone', '', 16, '', NOW()), (3, 'Closed', '', 0, '', NOW()), "
        "(4, 'Nobody', '', 8, '', NOW())"
    )
    boss = crafted.user("Boss", "boss@primary.example")
    staff = crafted.user("Staff", "staff@primary.example")
    lead = crafted.user("Lead", "lead@closed.example")
    crafted.sql("UPDATE ost_user SET org_id = 1, status = 1 WHERE id = %s", [boss])
    crafted.sql("UPDATE ost_user SET org_id = 1 WHERE id = %s", [staff])
    crafted.sql("UPDATE ost_user SET org_id = 3, status = 1 WHERE id = %s", [lead])

    report = run(crafted)

    primary = Organization.objects.get(name="Primary")
    assert not primary.share_tickets and Organization.objects.get(name="Everyone").share_tickets
    boss_user = User.objects.get(email="boss@primary.example")
    assert boss_user.organization == primary and boss_user.organization_manager
    assert policy.sees_organisation_tickets(boss_user)
    assert not policy.sees_organisation_tickets(User.objects.get(email="staff@primary.example"))
    # A primary contact of an organisation that shares nothing saw nothing more in osTicket.
    assert not User.objects.get(email="lead@closed.example").organization_manager
    assert "shares no tickets" in "\n".join(report.tables["user"].notes)
    assert "has none" in "\n".join(report.tables["organization"].notes)

    # The organisation starts sharing with everybody: the contact's row is brought up to date.
    crafted.sql("UPDATE ost_organization SET status = 16 WHERE id = 3")
    again = run(crafted)
    assert again.tables["user"].counts[UPDATED] == 1
    assert User.objects.get(email="lead@closed.example").organization_manager


def test_a_dry_run_over_an_imported_faq_changes_nothing_and_keeps_its_file(kb_source, run, tmp_path):
    run(kb_source)
    article = article_of(kb_source.ids["password"])
    stored = tmp_path / "media" / article.attachments.get().file.name
    assert stored.is_file()
    kb_source.sql("UPDATE ost_faq SET answer = '<p>Changed</p>' WHERE faq_id = %s", [kb_source.ids["password"]])

    report = run(kb_source, dry_run=True)

    assert report.tables["faq"].counts[UPDATED] == 1
    assert "Settings" in article_of(kb_source.ids["password"]).body
    assert stored.is_file()
    assert not Article.objects.filter(body__contains="Changed").exists()
