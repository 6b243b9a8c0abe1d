"""Full-text search over the tickets an agent may see, ranked, with the matched words marked.

`search(agent, text)` parses the text (tessera.search.syntax: words, "phrases", OR, -not,
prefix*), finds the matching tickets among `within` (by default every ticket the agent may
see, the same rule as the queues, tickets.policy.visible_tickets), ranks them and returns up to
`limit` SearchHits. A fixed number of queries, whatever the desk's size: the policy's two
(memberships, teams; cached per agent), one to rank, one for the rows and snippets.

PostgreSQL
----------
The obvious query, "GIN matches, semi-joined to the visible tickets, ranked", has no good plan
on a million tickets: the planner cannot estimate how much of a word's matches an agent may
see, so it either reads every match of a common word (224,000 for "printer") or scans the
ticket table for a rare one (a 250 ms hash join for "kerberos"); an agent of a small department
searching "vpn" waited 4 s. So the candidates (at most CANDIDATES, 1,000) come from two bounded
halves of one statement, and only they are ranked (ts_rank_cd, cover density, normalised by
log length; subject and number weigh 1.0, people 0.4, thread 0.1):

    WITH recent AS (        -- the newest RECENT_TICKETS (5,000) tickets in `within` the agent
        SELECT v.id, d.document                         -- may see, each one's document read by
        FROM (<visible ∩ within> ORDER BY id DESC LIMIT 5000) AS v (id)      -- its primary key
        CROSS JOIN LATERAL (SELECT p.document FROM search_ticketdocument p
                            WHERE p.ticket_id = v.id OFFSET 0) AS d
        WHERE d.document @@ to_tsquery('simple', <q>) LIMIT 1000
    ), older AS (           -- only when recent found fewer than 1,000: the GIN index's first
        SELECT m.ticket_id, m.document                  -- OLDER_MATCHES (10,000) matches,
        FROM (SELECT … FROM search_ticketdocument d     -- each checked by primary key
              WHERE d.document @@ <q> LIMIT 10000) m
        WHERE EXISTS (<visible ∩ within> AND id = m.ticket_id OFFSET 0)
          AND m.ticket_id NOT IN (SELECT ticket_id FROM recent)
        LIMIT (SELECT 1000 - count(*) FROM recent)
    )
    SELECT ticket_id, ts_rank_cd(document, <q>, 1) AS rank FROM recent UNION ALL older
    ORDER BY rank DESC, ticket_id DESC LIMIT 50

Why recent is written as a LATERAL probe (issue 11). Written as a plain join of the 5,000 ids
to search_ticketdocument, the join method was the planner's to choose, and it chose by the
desk's size: at 1,000,000 tickets a nested loop over the primary key (19 ms), at 100,000 a
hash join over a sequential scan of every document (99,000 rows, ~90 ms of the page's 197)
because the whole table looked cheap enough to read once. The LATERAL subquery refers to
v.id and its OFFSET 0 keeps the planner from flattening it into an ordinary join, so the only
way to run it is once per candidate id, as a nested loop: the one index that can answer
`ticket_id = v.id` is the primary key. And because the @@ filter sits outside that subquery
(PostgreSQL does not push conditions into a subquery with OFFSET), the GIN index is no option
inside it either. The plan no longer depends on any estimate: at most 5,000 primary-key probes
in id order, stopped by LIMIT after the 1,000th match; EXPLAIN shows the same plan at 10,000,
100,000 and 1,000,000 tickets (bench/RESULTS.md). tests/search/test_search_plan.py makes the
planner prefer every other join and checks that the probe stays. (OFFSET 0 keeps older's
EXISTS a per-row probe for the same reason.) The price is paid by a rare word: its 5,000
probes cost ~20 ms where the hash join over its few GIN matches cost a few; that is bounded
and the same at every size, which a plan that can flip is not. EXPLAIN ANALYZE at 10,000,
100,000 and 1,000,000 tickets (bench/generate.py; the bench agent sees 3 departments, 57% of
tickets), warm cache:

- "printer" (in 22% of tickets): 23–31 ms. recent: ~4,400 probes give 1,000 candidates;
  older: never executed (its LIMIT is 0).
- "kerberos" (1 ticket in 2,000): 22–30 ms. recent: 5,000 probes find 4; older: Bitmap
  Index Scan on search_document_gin (5 / 50 / 500 rows), one tickets_ticket_pkey probe each.

older, which runs only when recent found fewer than 1,000, still leaves one choice to the
planner: how to read at most 10,000 matches (a GIN bitmap scan, or a sequential scan that stops
at the 10,000th, so reads about 10,000 ÷ the word's frequency rows). Both are bounded by that
LIMIT and neither joins; for the benchmark's words it never runs ("printer") or reads a
handful of GIN entries ("kerberos").

What it means: a specific search (fewer than 1,000 visible matches) is exact, wherever the
matches are; a common word is ranked among its newest 1,000 visible matches, which is what
an agent scanning results for "printer" wants, and the page says to add words. The work is
bounded either way: at most 5,000 newest visible tickets, plus one GIN scan and 10,000 probes.
Rows and snippets are then read for the `limit` winners only.

Highlighting on PostgreSQL is done in Python (`passage`, `highlight`) over the winners'
thread text, because ts_headline parses the original text with the default parser, which
keeps "ken@example.com" or "v2.3" whole while the index (and FTS5) splits them: the two would
disagree about what matched. (Choosing the matching entries with a tsvector per entry cost
20 ms for 50 tickets; one regular-expression scan in Python costs well under 1 ms.)

SQLite
------
One FTS5 query ranks with bm25 (weights number 10, subject 10, people 4, body 1) and marks
words with highlight() (subject) and snippet() (body), restricted to `within` by rowid; the
snippet functions run in an outer query over the `limit` best rowids only. SQLite serves one
team's desk: every match is ranked, with no candidate bound.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tessera.accounts.models import Agent
from tessera.fast_html import fts_marked as _marked
from tessera.tickets import policy, selectors
from tessera.tickets.models import Ticket

from .index import MAX_ENTRY_CHARS, is_postgresql
from .syntax import WORD_RE, ParsedQuery, Term, parse_query

RESULT_LIMIT = 50
CANDIDATES = 1_000  # matches ranked at most
RECENT_TICKETS = 5_000  # the newest visible tickets checked first
OLDER_MATCHES = 10_000  # older matches (index order) checked against the permissions at most
SNIPPET_WORDS = 30
SNIPPET_SOURCE_CHARS = 50_000  # of a thread's text, read for a snippet
PASSAGE_CHARS = 1_500  # of it, around the first match, given to the highlighter
BM25_WEIGHTS = "10.0, 10.0, 4.0, 1.0"  # number, subject, people, body


@dataclass(frozen=True)
class SearchHit:
    ticket: Ticket  # with selectors.row_relations() loaded
    rank: float  # higher is better; comparable within one result list only
    subject: SafeString  # the subject, escaped, matched words in <mark>
    snippet: SafeString  # a passage of the thread around the matches, escaped, words in <mark>


def search(
    agent: Agent,
    text: str | ParsedQuery,
    *,
    within: QuerySet[Ticket] | None = None,
    limit: int = RESULT_LIMIT,
) -> list[SearchHit]:
    """The best `limit` tickets matching `text` among `within` (queue filters, say), never
    outside what the agent may see: `within` narrows, it cannot widen. An empty or unusable
    query finds nothing (see syntax.parse_query)."""
    parsed = text if isinstance(text, ParsedQuery) else parse_query(text)
    if parsed.is_empty or limit <= 0:
        return []
    visible = policy.visible_tickets(agent, within).order_by()
    try:
        if is_postgresql():
            return _search_postgres(parsed, visible, limit)
        ids_sql, ids_params = _sql(visible.values("pk"))
        return _search_sqlite(parsed, ids_sql, ids_params, limit)
    except EmptyResultSet:
        return []


def _sql(qs: QuerySet[Any, Any]) -> tuple[str, list[Any]]:
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    return sql, list(params)


def _rows(ids: Sequence[int], qs: QuerySet[Ticket] | None = None) -> dict[int, Ticket]:
    qs = Ticket.objects.all() if qs is None else qs
    return {t.pk: t for t in selectors.with_row_relations(list(qs.filter(pk__in=ids)))}


# --------------------------------------------------------------------------- PostgreSQL


def _search_postgres(parsed: ParsedQuery, visible: QuerySet[Ticket], limit: int) -> list[SearchHit]:
    tsquery = parsed.to_tsquery()
    newest_sql, newest_params = _sql(visible.order_by("-pk").values("pk")[:RECENT_TICKETS])
    probe_sql, probe_params = _sql(visible.filter(pk=RawSQL("m.ticket_id", ())).values("pk"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH recent AS (
                SELECT v.id AS ticket_id, d.document
                FROM ({newest_sql}) AS v (id)
                CROSS JOIN LATERAL (
                    SELECT p.document FROM search_ticketdocument p WHERE p.ticket_id = v.id OFFSET 0
                ) AS d
                WHERE d.document @@ to_tsquery('simple', %s)
                LIMIT %s
            ), older AS (
                SELECT m.ticket_id, m.document
                FROM (SELECT d.ticket_id, d.document FROM search_ticketdocument d
                      WHERE d.document @@ to_tsquery('simple', %s) LIMIT %s) m
                WHERE EXISTS ({probe_sql} OFFSET 0) AND m.ticket_id NOT IN (SELECT ticket_id FROM recent)
                LIMIT (SELECT %s - count(*) FROM recent)
            )
            SELECT c.ticket_id, ts_rank_cd(c.document, to_tsquery('simple', %s), 1) AS rank
            FROM (SELECT * FROM recent UNION ALL SELECT * FROM older) c
            ORDER BY rank DESC, c.ticket_id DESC
            LIMIT %s
            """,  # noqa: S608  formats compiled queryset SQL; its values are parameters
            [
                *newest_params,
                tsquery,
                CANDIDATES,
                tsquery,
                OLDER_MATCHES,
                *probe_params,
                CANDIDATES,
                tsquery,
                limit,
            ],
        )
        ranked = cursor.fetchall()
    if not ranked:
        return []
    terms = parsed.positive_terms
    # The thread's text for the snippet, read for the winners only and capped; the passage
    # around the first match is found in Python (cheaper than a tsvector per entry).
    thread = RawSQL(
        "SELECT left(string_agg(left(e.body_text, %s), chr(10) ORDER BY e.id), %s) "
        "FROM tickets_threadentry e WHERE e.ticket_id = tickets_ticket.id",
        [MAX_ENTRY_CHARS, SNIPPET_SOURCE_CHARS],
    )
    rows = _rows([pk for pk, _rank in ranked], Ticket.objects.annotate(search_thread=thread))
    return [
        SearchHit(
            ticket=rows[pk],
            rank=float(rank),
            subject=highlight(rows[pk].subject, terms, words=None),
            snippet=highlight(passage(rows[pk].search_thread or "", terms), terms),  # type: ignore[attr-defined]
        )
        for pk, rank in ranked
        if pk in rows
    ]


# --------------------------------------------------------------------------- SQLite


def _search_sqlite(parsed: ParsedQuery, ids_sql: str, ids_params: list[Any], limit: int) -> list[SearchHit]:
    match = parsed.to_fts5()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, bm25(search_fts, {BM25_WEIGHTS}) AS score, "  # noqa: S608  formats constants and compiled queryset SQL; values are parameters
            "highlight(search_fts, 1, char(2), char(3)), "
            "snippet(search_fts, 3, char(2), char(3), '…', 24) "
            "FROM search_fts WHERE search_fts MATCH %s AND rowid IN ("
            "SELECT rowid FROM search_fts WHERE search_fts MATCH %s "
            f"AND rowid IN ({ids_sql}) ORDER BY bm25(search_fts, {BM25_WEIGHTS}), rowid DESC LIMIT %s) "
            "ORDER BY score, rowid DESC",
            [match, match, *ids_params, limit],
        )
        ranked = cursor.fetchall()
    rows = _rows([r[0] for r in ranked])
    return [
        SearchHit(ticket=rows[pk], rank=-float(score), subject=_marked(subject), snippet=_marked(snippet))
        for pk, score, subject, snippet in ranked
        if pk in rows
    ]


# --------------------------------------------------------------------------- highlighting


def _norm(word: str) -> str:
    word = word.lower()
    return word if word.isascii() else unicodedata.normalize("NFC", word)


def passage(text: str, terms: Sequence[Term]) -> str:
    """The part of `text` around the first word of any term (found by one regular expression
    scan), so the highlighter tokenizes a page of text rather than a whole thread."""
    if len(text) <= PASSAGE_CHARS:
        return text
    firsts = sorted({t.words[0] for t in terms}, key=len, reverse=True)
    pattern = r"(?<![^\W_])(?:" + "|".join(re.escape(w) for w in firsts) + r")"
    found = re.search(pattern, text, re.IGNORECASE)
    start = max(0, found.start() - PASSAGE_CHARS // 5) if found else 0
    return text[start : start + PASSAGE_CHARS]


def _spans(normalized: list[str], terms: Sequence[Term]) -> list[tuple[int, int]]:
    """Token ranges (first, last, inclusive) that match a term, overlapping ones merged."""
    found = []
    for term in terms:
        size, first, wanted = len(term.words), term.words[0], term.words[-1]
        for i in range(len(normalized) - size + 1):
            if size > 1 and normalized[i] != first:
                continue
            if any(normalized[i + j] != term.words[j] for j in range(1, size - 1)):
                continue
            last = normalized[i + size - 1]
            if last == wanted or (term.prefix and last.startswith(wanted)):
                found.append((i, i + size - 1))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(found):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def highlight(text: str, terms: Sequence[Term], *, words: int | None = SNIPPET_WORDS) -> SafeString:
    """`text` escaped, with what matches `terms` (a word, a phrase's words in order, a prefix)
    in <mark>.

    With `words`, only the passage of about that many words that holds the most matched words,
    with "…" where text was left out; with None, all of it (a subject)."""
    tokens = list(WORD_RE.finditer(text))
    spans = _spans([_norm(m.group()) for m in tokens], terms)
    start, end = 0, len(tokens)
    if words is not None and len(tokens) > words:
        covered = [0] * len(tokens)
        for a, b in spans:
            for i in range(a, b + 1):
                covered[i] = 1
        best, best_at, in_window = -1, 0, 0
        for i in range(len(tokens)):
            in_window += covered[i]
            if i >= words:
                in_window -= covered[i - words]
            if i >= words - 1 and in_window > best:
                best, best_at = in_window, i - words + 1
        first = next((i for i in range(best_at, best_at + words) if covered[i]), best_at)
        start = max(0, min(first - 4, len(tokens) - words))  # a little context before the first match
        end = start + words
    begin = 0 if start == 0 else tokens[start].start()
    finish = len(text) if end >= len(tokens) else tokens[end - 1].end()
    out = ["… "] if start > 0 else []
    at = begin
    for a, b in spans:
        if b < start or a >= end:
            continue
        a, b = max(a, start), min(b, end - 1)
        out += [escape(text[at : tokens[a].start()]), "<mark>", escape(text[tokens[a].start() : tokens[b].end()])]
        out.append("</mark>")
        at = tokens[b].end()
    out.append(escape(text[at:finish]))
    if end < len(tokens):
        out.append(" …")
    return mark_safe("".join(out))  # noqa: S308  every piece of text in `out` is escaped
