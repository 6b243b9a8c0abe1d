"""osTicket's knowledge base: FAQ categories (with their parent, 1.17+) and FAQs with their files
and help topics, written through tessera.kb.services as the system (actor None), so the text is
sanitised and the search index rewritten exactly as for an article typed in Tessera.

osTicket keeps answers as HTML; Tessera's articles are Markdown with raw HTML shown as text. An
answer is sanitised (tickets.content.from_html) and its plain-text twin becomes the body: tags,
scripts and styles never reach the page, paragraphs, list items and link addresses survive.
Keywords are appended as a last line (visible and searchable: Tessera has no hidden keywords);
the internal notes of an FAQ are not put on the article (a public page) but written in the report.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tessera.kb import services as kb
from tessera.kb.models import Article, Category
from tessera.tickets import attachments as attachment_store
from tessera.tickets import content
from tessera.tickets.models import HelpTopic

from ..runner import Context, Skip, fingerprint, sync
from ..source import Row
from .threads import file_content  # the one way files are read from the source

# osTicket's visibility of a FAQ (ispublished) and a category (ispublic): 0 internal, 1 public,
# 2 featured.
FEATURED = 2


def _text(html: str | None) -> str:
    return content.from_html(html or "")[1]


def _errors(exc: ValidationError) -> str:
    return "; ".join(str(m) for m in exc.messages)


def knowledge_base(ctx: Context) -> None:
    if ctx.source.has("faq_category"):
        categories(ctx)
    if ctx.source.has("faq"):
        faqs(ctx)


def categories(ctx: Context) -> None:
    src = ctx.source
    rows = src.all(f"SELECT * FROM {src.t('faq_category')} ORDER BY category_id")  # noqa: S608  table names are ours
    mapped = ctx.map("faq_category")

    def fill(category: Category | None, row: Row) -> int:
        pid = int(row.get("category_pid") or 0)
        parent_id = mapped.get(pid) if pid else None
        parent = Category.objects.filter(pk=parent_id).first() if parent_id else None
        try:
            saved = kb.save_category(
                None,
                category,
                name=(content.clean_line(row["name"] or "") or _("Category %(n)s") % {"n": row["category_id"]})[
                    : kb.NAME_MAX
                ],
                parent=parent,
                description=_text(row["description"]),
                is_public=int(row["ispublic"] or 0) > 0,
                slug=category.slug if category is not None else "",
            )
        except ValidationError as exc:
            raise Skip(_errors(exc)) from exc
        if (row["notes"] or "").strip():
            ctx.report.note(
                "faq_category", row["category_id"], _("internal notes: %(n)s") % {"n": _text(row["notes"])[:500]}
            )
        return saved.pk

    def update(row: Row, target: int) -> None:
        category = Category.objects.filter(pk=target).first()
        if category is None:
            raise Skip(_("the category was deleted in Tessera"))
        fill(category, row)

    sync(
        ctx,
        "faq_category",
        iter([rows]),
        pk="category_id",
        total=len(rows),
        create=lambda row: fill(None, row),
        update=update,
    )
    # A parent listed after its child (a higher id) was not there yet: place those children now.
    for row in rows:
        pid = int(row.get("category_pid") or 0)
        child = mapped.get(int(row["category_id"]))
        if not pid or child is None:
            continue
        parent = mapped.get(pid)
        if parent is None:
            ctx.report.note(
                "faq_category", row["category_id"], _("its parent %(p)s was not imported: top level") % {"p": pid}
            )
            continue
        category = Category.objects.get(pk=child)
        if category.parent_id != parent:
            try:
                kb.save_category(
                    None,
                    category,
                    name=category.name,
                    parent=Category.objects.get(pk=parent),
                    description=category.description,
                    is_public=category.is_public,
                    order=category.order,
                    slug=category.slug,
                )
            except ValidationError as exc:
                ctx.report.note("faq_category", row["category_id"], _errors(exc))


def faqs(ctx: Context) -> None:
    src = ctx.source
    total = src.count("faq")
    files: dict[int, list[Row]] = {}
    topics: dict[int, list[int]] = {}

    def prepare(batch: list[Row]) -> None:
        files.clear()
        topics.clear()
        ids = [int(r["faq_id"]) for r in batch]
        marks = ",".join(["%s"] * len(ids))
        for r in src.all(
            f"SELECT a.id, a.object_id, a.file_id, a.name AS override, f.name, f.type, f.size, f.bk, "  # noqa: S608  table names are ours
            f"f.`key` AS file_key FROM {src.t('attachment')} a LEFT JOIN {src.t('file')} f ON f.id = a.file_id "
            f"WHERE a.type = 'F' AND a.object_id IN ({marks}) ORDER BY a.id",
            ids,
        ):
            files.setdefault(int(r["object_id"]), []).append(r)
        if src.has("faq_topic"):
            for r in src.all(
                f"SELECT faq_id, topic_id FROM {src.t('faq_topic')} WHERE faq_id IN ({marks}) ORDER BY topic_id",  # noqa: S608
                ids,
            ):
                topics.setdefault(int(r["faq_id"]), []).append(int(r["topic_id"]))

    def digest(row: Row) -> str:
        faq = int(row["faq_id"])
        return fingerprint(row, [(f["id"], f["file_id"], f["size"]) for f in files.get(faq, [])], topics.get(faq))

    def uploads(row: Row) -> list[attachment_store.Upload]:
        found: list[attachment_store.Upload] = []
        for f in files.get(int(row["faq_id"]), []):
            name = f["override"] or f["name"] or f"file-{f['file_id']}"
            data = file_content(ctx, f) if f["name"] is not None else None
            if data is None:
                ctx.report.note("attachment", f["id"], _("the content of %(n)s was not found: left out") % {"n": name})
                continue
            if f["size"] is not None and len(data) != int(f["size"]):
                ctx.report.note(
                    "attachment",
                    f["id"],
                    _("size differs from osTicket's record (%(a)s, not %(b)s)") % {"a": len(data), "b": f["size"]},
                )
            upload = attachment_store.Upload(name=name, content=data, content_type=f["type"] or "")
            try:
                attachment_store.validate_uploads([upload])
            except ValidationError as exc:
                ctx.report.note("attachment", f["id"], _("refused: %(e)s") % {"e": _errors(exc)})
                continue
            found.append(upload)
        return found

    def write(article: Article | None, row: Row) -> int:
        faq = int(row["faq_id"])
        title = content.clean_line(row["question"] or "")
        if len(title) > kb.TITLE_MAX:
            ctx.report.note("faq", faq, _("question shortened to %(n)d characters") % {"n": kb.TITLE_MAX})
            title = title[: kb.TITLE_MAX].rstrip()
        body = _text(row["answer"]) or _("(This FAQ had no answer in osTicket.)")
        keywords = content.clean_line(row["keywords"] or "")
        if keywords:
            body += "\n\n" + _("Keywords: %(k)s") % {"k": keywords}
        if (row["notes"] or "").strip():
            ctx.report.note("faq", faq, _("internal notes: %(n)s") % {"n": _text(row["notes"])[:500]})
        visibility = int(row["ispublished"] or 0)
        category = ctx.map("faq_category").get(int(row["category_id"] or 0))
        if row["category_id"] and category is None:
            ctx.report.note(
                "faq", faq, _("its category %(c)s was not imported: uncategorised") % {"c": row["category_id"]}
            )
        wanted = topics.get(faq, [])
        topic_ids = [t for t in (ctx.map("help_topic").get(i) for i in wanted) if t]
        if len(topic_ids) < len(wanted):
            ctx.report.note("faq_topic", faq, _("a help topic it names was not imported: left out"))
        new_files = [] if ctx.report.dry_run else uploads(row)
        at = src.when(row["updated"]) or src.when(row["created"])
        fields: dict[str, Any] = {
            "category": Category.objects.filter(pk=category).first() if category else None,
            "is_public": visibility > 0,
            "featured": visibility == FEATURED,
            "topics": _topics(topic_ids),
            "uploads": new_files,
            "at": at,
        }
        if article is not None:
            fields["slug"] = article.slug
            if not ctx.report.dry_run:  # removing a file deletes it from storage, which no rollback restores
                fields["remove_files"] = list(article.attachments.values_list("pk", flat=True))
        try:
            saved = kb.save_article(None, article, title=title, body=body, **fields)
        except ValidationError as exc:
            raise Skip(_errors(exc)) from exc
        created = src.when(row["created"])
        if article is None and created is not None:
            Article.objects.filter(pk=saved.pk).update(created_at=created)
        return saved.pk

    def update(row: Row, target: int) -> None:
        article = Article.objects.filter(pk=target).first()
        if article is None:
            raise Skip(_("the article was deleted in Tessera"))
        write(article, row)

    ctx.map("faq")
    sync(
        ctx,
        "faq",
        src.batches("faq", "faq_id"),
        pk="faq_id",
        total=total,
        create=lambda row: write(None, row),
        update=update,
        prepare=prepare,
        digest=digest,
    )
    _account_folded(ctx)


def _topics(ids: list[int]) -> list[Any]:
    return list(HelpTopic.objects.filter(pk__in=ids))


def _account_folded(ctx: Context) -> None:
    """A FAQ's topic links and files come over with it (the threads phase accounts for the other
    attachments and their files)."""
    src = ctx.source
    faq_ids = f"SELECT faq_id FROM {src.t('faq')}"  # noqa: S608  table names are ours
    if src.has("faq_topic"):
        total = src.count("faq_topic")
        ctx.report.expect("faq_topic", total)
        folded = src.count("faq_topic", f"faq_id IN ({faq_ids})")
        ctx.report.folded("faq_topic", folded, "faq")
        ctx.report.skip_all("faq_topic", total - folded, _("its FAQ does not exist"))
    if src.has("attachment"):
        folded = src.count("attachment", f"type = 'F' AND object_id IN ({faq_ids})")
        ctx.report.folded("attachment", folded, "faq")
        ctx.report.skip_all("attachment", src.count("attachment", "type = 'F'") - folded, _("its FAQ does not exist"))
