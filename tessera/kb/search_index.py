"""Keeping the knowledge base's search index current: one document per article, written by
kb.services in the transaction that saves the article, so what is found is what was committed.

The same engines and the same idea of a word as the tickets' search (tessera.search.index):
PostgreSQL full text with the 'simple' configuration over runs of letters and digits
(`vector_sql`), SQLite FTS5 with the unicode61 tokenizer; the title weighs more than the text.
PostgreSQL keeps the tsvector in kb_articledocument (GIN indexed); SQLite keeps the text in the
FTS5 table kb_fts (rowid = article id), which a trigger empties when an article row goes.
Articles are few (hundreds, not millions), so each save rewrites its document whole.
"""

from __future__ import annotations

from django.db import connection

from tessera.search.index import MARK_END, MARK_START, is_postgresql, vector_sql

from .models import Article

MAX_TEXT_CHARS = 200_000

FTS5_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 0')"
)
FTS5_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS kb_article_deleted AFTER DELETE ON kb_article "
    "BEGIN DELETE FROM kb_fts WHERE rowid = old.id; END"
)

_PG_UPSERT = (
    "INSERT INTO kb_articledocument (article_id, document) "  # noqa: S608  formats a constant SQL snippet; values are parameters
    f"VALUES (%s, setweight({vector_sql('%s')}, 'A') || {vector_sql('%s')}) "
    "ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document"
)


def _clean(text: str) -> str:
    # The highlight markers never come from stored text, so nobody can forge a highlight.
    return text.replace(MARK_START, " ").replace(MARK_END, " ")


def index_article(article: Article) -> None:
    """Write (or rewrite) the article's document from its title and plain text."""
    title, body = _clean(article.title), _clean(article.body_text[:MAX_TEXT_CHARS])
    with connection.cursor() as cursor:
        if is_postgresql():
            cursor.execute(_PG_UPSERT, [article.pk, title, body])
        else:
            cursor.execute("DELETE FROM kb_fts WHERE rowid = %s", [article.pk])
            cursor.execute("INSERT INTO kb_fts (rowid, title, body) VALUES (%s, %s, %s)", [article.pk, title, body])


def forget_article(article_id: int) -> None:
    """Drop a deleted article's document (the row's deletion does it too; this is explicit)."""
    with connection.cursor() as cursor:
        if is_postgresql():
            cursor.execute("DELETE FROM kb_articledocument WHERE article_id = %s", [article_id])
        else:
            cursor.execute("DELETE FROM kb_fts WHERE rowid = %s", [article_id])


def rebuild() -> int:
    """Every article's document again (a restored database, a damaged FTS5 table)."""
    if not is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(FTS5_CREATE)
            cursor.execute(FTS5_TRIGGER)
    count = 0
    for article in Article.objects.only("pk", "title", "body_text").iterator():
        index_article(article)
        count += 1
    return count
