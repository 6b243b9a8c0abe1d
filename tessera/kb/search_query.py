"""Finding articles: the portal's and the workspace's search, and the suggestions shown while
a visitor types a new ticket's subject. Same query language and engines as the tickets' search
(tessera.search.syntax parses; only words reach the engine), restricted to the articles the
reader may see (kb.policy.visible_articles), ranked (PostgreSQL ts_rank_cd, SQLite bm25, the
title weighing ten times the text), with the matched words marked.

Two queries whatever the size of the knowledge base: rank the matches, read the winners."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.utils.safestring import SafeString

from tessera.accounts.models import User
from tessera.fast_html import fts_marked
from tessera.search.index import is_postgresql
from tessera.search.query import highlight, passage
from tessera.search.syntax import ParsedQuery, Term, parse_query, words_of

from . import policy
from .models import Article

RESULT_LIMIT = 30
SUGGESTION_LIMIT = 5
SUGGEST_MIN_CHARS = 3
SUGGEST_MAX_WORDS = 8
BM25_WEIGHTS = "10.0, 1.0"  # title, body
# Words too common to say anything about what a subject is about (English, German, French,
# Spanish): a suggestion for "my printer is not working" is about the printer.
STOP_WORDS = frozenset(
    word
    for line in (
        "the and for with not you your our are was can cannot how what why when where does doesn this that from",
        "have has into any all get got out but its there their they them who which will would should could",
        "please help hello problem issue working work need want",
        "der die das und mit nicht ich ist ein eine wie was kann bitte",
        "les des une est pas pour avec dans que qui",
        "los las una por para con como del",
    )
    for word in line.split(" ")
)


@dataclass(frozen=True)
class ArticleHit:
    article: Article
    title: SafeString  # escaped, matched words in <mark>
    snippet: SafeString  # a passage of the text around the matches, escaped, words in <mark>


def search(
    user: User | AnonymousUser | None, text: str | ParsedQuery, *, limit: int = RESULT_LIMIT, public_only: bool = False
) -> list[ArticleHit]:
    """The articles matching `text` that `user` may read (public ones only with `public_only`,
    as the portal and the suggestions show them whoever asks), best first."""
    parsed = text if isinstance(text, ParsedQuery) else parse_query(text)
    if parsed.is_empty or limit <= 0:
        return []
    visible = policy.visible_articles(None if public_only else user)
    try:
        if is_postgresql():
            return _search_postgres(parsed, visible, limit)
        return _search_sqlite(parsed, visible, limit)
    except EmptyResultSet:
        return []


def suggestion_query(subject: str) -> ParsedQuery:
    """What a subject being typed is about: any of its telling words (OR), the last one a prefix
    while it is still being typed. Short or empty subjects ask nothing."""
    if len(subject.strip()) < SUGGEST_MIN_CHARS:
        return ParsedQuery()
    typed = words_of(subject[:256])
    # The word being typed (no space after it yet) is a prefix: "jam" finds jams.
    partial = typed[-1] if typed and not subject[:256][-1:].isspace() and len(typed[-1]) >= SUGGEST_MIN_CHARS else None
    words = [w for w in typed[:-1] if len(w) >= SUGGEST_MIN_CHARS and w not in STOP_WORDS]
    if typed and typed[-1] != partial and len(typed[-1]) >= SUGGEST_MIN_CHARS and typed[-1] not in STOP_WORDS:
        words.append(typed[-1])
    unique = [w for w in dict.fromkeys(words) if w != partial][-SUGGEST_MAX_WORDS:]
    terms = [Term((w,)) for w in unique]
    if partial is not None and partial not in STOP_WORDS:
        terms.append(Term((partial,), prefix=True))
    if not terms:
        return ParsedQuery()
    return ParsedQuery(tuple((t,) for t in terms))


def suggest(subject: str, *, limit: int = SUGGESTION_LIMIT) -> list[ArticleHit]:
    """Public articles that may answer a new ticket before it is sent."""
    return search(None, suggestion_query(subject), limit=limit, public_only=True)


def _sql(qs: QuerySet[Any, Any]) -> tuple[str, list[Any]]:
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    return sql, list(params)


def _rows(ids: list[int]) -> dict[int, Article]:
    return {a.pk: a for a in Article.objects.select_related("category").filter(pk__in=ids)}


def _search_postgres(parsed: ParsedQuery, visible: QuerySet[Article], limit: int) -> list[ArticleHit]:
    ids_sql, ids_params = _sql(visible.order_by().values("pk"))
    tsquery = parsed.to_tsquery()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.article_id, ts_rank_cd(d.document, to_tsquery('simple', %s), 1) AS rank "  # noqa: S608  formats compiled queryset SQL; its values are parameters
            "FROM kb_articledocument d WHERE d.document @@ to_tsquery('simple', %s) "
            f"AND d.article_id IN ({ids_sql}) ORDER BY rank DESC, d.article_id DESC LIMIT %s",
            [tsquery, tsquery, *ids_params, limit],
        )
        ranked = [row[0] for row in cursor.fetchall()]
    rows = _rows(ranked)
    terms = parsed.positive_terms
    return [
        ArticleHit(
            article=rows[pk],
            title=highlight(rows[pk].title, terms, words=None),
            snippet=highlight(passage(rows[pk].body_text, terms), terms),
        )
        for pk in ranked
        if pk in rows
    ]


def _search_sqlite(parsed: ParsedQuery, visible: QuerySet[Article], limit: int) -> list[ArticleHit]:
    ids_sql, ids_params = _sql(visible.order_by().values("pk"))
    match = parsed.to_fts5()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, highlight(kb_fts, 0, char(2), char(3)), "  # noqa: S608  formats constants and compiled queryset SQL; values are parameters
            "snippet(kb_fts, 1, char(2), char(3), '…', 24) "
            f"FROM kb_fts WHERE kb_fts MATCH %s AND rowid IN ({ids_sql}) "
            f"ORDER BY bm25(kb_fts, {BM25_WEIGHTS}), rowid DESC LIMIT %s",
            [match, *ids_params, limit],
        )
        ranked = cursor.fetchall()
    rows = _rows([r[0] for r in ranked])
    return [
        ArticleHit(article=rows[pk], title=fts_marked(title), snippet=fts_marked(snippet))
        for pk, title, snippet in ranked
        if pk in rows
    ]
