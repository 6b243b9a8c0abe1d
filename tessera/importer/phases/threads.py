"""Every ticket's thread: entries (sanitised like any mail), their files, the Message-IDs of the
mail they came in (so a reply to an old mail still finds its ticket), and the timeline
events. Task threads are accounted for but not brought over."""

from __future__ import annotations

import hashlib
import html
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from tessera.mail.models import InboundMessage, InboundStatus
from tessera.search import index as search_index
from tessera.tasks.models import TaskEntry
from tessera.tickets.content import clean_html, html_to_text
from tessera.tickets.models import EntryKind, EventKind
from tessera.tickets.services import imported
from tessera.tickets.services.imported import ImportedEntry

from ..runner import Context, Skip, fingerprint, sync
from ..source import Row

KINDS = {"M": EntryKind.MESSAGE, "R": EntryKind.RESPONSE, "N": EntryKind.NOTE}
SOURCES = {"web": "web", "email": "email", "phone": "phone", "api": "api", "other": "other"}
# osTicket event name → Tessera timeline kind. Names not here are reported and left out.
EVENTS: dict[str, str] = {
    "created": EventKind.CREATED,
    "closed": EventKind.STATUS,
    "reopened": EventKind.REOPENED,
    "assigned": EventKind.ASSIGNED,
    "released": EventKind.RELEASED,
    "transferred": EventKind.TRANSFERRED,
    "referred": EventKind.REFERRED,
    "overdue": EventKind.SLA_BREACHED,
    "edited": EventKind.FIELD_CHANGED,
    "collab": EventKind.COLLABORATOR_ADDED,
    "merged": EventKind.MERGED,
    "linked": EventKind.LINKED,
    "unlinked": EventKind.UNLINKED,
    "message": EventKind.MESSAGE,
    "note": EventKind.NOTE,
}


def _body(row: Row, ctx: Context) -> tuple[str, str]:
    raw: bytes | str | None = row["body"]
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            ctx.report.note("thread_entry", row["id"], _("body was not valid UTF-8: undecodable bytes replaced"))
    else:
        text = raw or ""
    if text.strip() in {"", "-"}:
        return "", ""
    if (row["format"] or "").lower() == "html":
        safe = clean_html(text)
        return safe, html_to_text(safe)
    # osTicket's plain text is not Markdown: keep it as written.
    text = text.replace("\r\n", "\n").strip()
    return clean_html("<p>" + html.escape(text).replace("\n", "<br>") + "</p>"), text


def entries(ctx: Context) -> None:
    src = ctx.source
    total = src.count("thread_entry")
    tickets_of: dict[int, int] = {}
    mails: defaultdict[int, list[Row]] = defaultdict(list)
    files: defaultdict[int, list[Row]] = defaultdict(list)
    authors: dict[tuple[str, int], int] = {}
    touched: set[int] = set()
    task_threads: dict[int, int] = {}  # source thread → Tessera task

    def prepare(batch: list[Row]) -> None:
        for holder in (tickets_of, mails, files, authors):
            holder.clear()
        task_threads.clear()
        thread_ids = sorted({int(r["thread_id"]) for r in batch})
        marks = ",".join(["%s"] * len(thread_ids))
        rows = src.all(f"SELECT id, object_id, object_type FROM {src.t('thread')} WHERE id IN ({marks})", thread_ids)  # noqa: S608
        found = ctx.lookup("ticket", (r["object_id"] for r in rows if r["object_type"] == "T"))
        tasks = ctx.lookup("task", (r["object_id"] for r in rows if r["object_type"] == "A"))
        for r in rows:
            if r["object_type"] == "T" and int(r["object_id"]) in found:
                tickets_of[int(r["id"])] = found[int(r["object_id"])]
            elif r["object_type"] == "A" and int(r["object_id"]) in tasks:
                task_threads[int(r["id"])] = tasks[int(r["object_id"])]
        ids = [int(r["id"]) for r in batch]
        marks = ",".join(["%s"] * len(ids))
        if src.has("thread_entry_email"):
            for r in src.all(
                f"SELECT id, thread_entry_id, mid, headers FROM {src.t('thread_entry_email')} "  # noqa: S608
                f"WHERE thread_entry_id IN ({marks}) ORDER BY id",
                ids,
            ):
                mails[int(r["thread_entry_id"])].append(r)
        for r in src.all(
            f"SELECT a.id, a.object_id, a.file_id, a.name AS override, a.inline, f.name, f.type, f.size, f.bk, "  # noqa: S608
            f"f.`key` AS file_key, f.signature FROM {src.t('attachment')} a "
            f"LEFT JOIN {src.t('file')} f ON f.id = a.file_id WHERE a.type = 'H' AND a.object_id IN ({marks}) "
            "ORDER BY a.id",
            ids,
        ):
            files[int(r["object_id"])].append(r)
        for key, table in (("staff_id", "staff"), ("user_id", "user")):
            for source_id, target in ctx.lookup(table, (r[key] for r in batch)).items():
                authors[(table, source_id)] = target

    def digest(row: Row) -> str:
        rid = int(row["id"])
        return fingerprint(row, [m["mid"] for m in mails.get(rid, [])], [f["id"] for f in files.get(rid, [])])

    def entry_of(row: Row) -> tuple[int, ImportedEntry]:
        thread = int(row["thread_id"])
        ticket = tickets_of.get(thread) or task_threads.get(thread)
        if ticket is None:
            raise Skip(_("its ticket or task was not imported"))
        kind = KINDS.get(row["type"])
        if kind is None:
            raise Skip(_("unknown entry type %(t)s") % {"t": row["type"]})
        author = None
        if row["staff_id"]:
            author = authors.get(("staff", int(row["staff_id"])))
        elif row["user_id"]:
            author = authors.get(("user", int(row["user_id"])))
        if author is None and (row["staff_id"] or row["user_id"]):
            ctx.report.note("thread_entry", row["id"], _("its author is not here: kept by name only"))
        body_html, body_text = _body(row, ctx)
        if not body_text and not files.get(int(row["id"])):
            body_html, body_text = "<p>-</p>", "-"
        created = src.when(row["created"])
        if created is None:
            raise Skip(_("no creation date"))
        return ticket, ImportedEntry(
            kind=kind,
            author_id=author,
            author_name=row["poster"] or "",
            body_html=body_html,
            body_text=body_text,
            source=SOURCES.get(str(row["source"] or "").lower(), "web"),
            created_at=created,
        )

    def create(row: Row) -> int:
        ticket, data = entry_of(row)
        if int(row["thread_id"]) in task_threads:
            return _task_entry(ticket, data)
        entry = imported.import_entry(ticket, data)
        _files(ctx, entry.pk, files.get(int(row["id"]), []))
        _mail(ctx, row, ticket, entry.pk, mails.get(int(row["id"]), []), data)
        touched.add(ticket)
        return entry.pk

    def create_many(rows: list[Row]) -> list[int | Skip]:
        """Entries in one statement; the few with files or mail headers then get those."""
        outcomes: list[int | Skip] = []
        ready: list[tuple[int, ImportedEntry]] = []
        for row in rows:
            try:
                if int(row["thread_id"]) in task_threads:
                    outcomes.append(Skip())  # replaced below: a task's entry, written on its own
                    continue
                outcomes.append(len(ready))
                ready.append(entry_of(row))
            except Skip as why:
                outcomes[-1] = why
        for index, row in enumerate(rows):
            if int(row["thread_id"]) in task_threads:
                try:
                    outcomes[index] = -1 - create(row)
                except Skip as why:
                    outcomes[index] = why
        made = imported.import_entries(ready)
        for row, outcome in zip(rows, outcomes, strict=True):
            if isinstance(outcome, Skip) or outcome < 0:
                continue
            ticket, data = ready[outcome]
            rid = int(row["id"])
            if files.get(rid):
                _files(ctx, made[outcome], files[rid])
            if mails.get(rid):
                _mail(ctx, row, ticket, made[outcome], mails[rid], data)
            touched.add(ticket)
        return [o if isinstance(o, Skip) else (-1 - o if o < 0 else made[o]) for o in outcomes]

    def update(row: Row, target: int) -> None:
        ticket, data = entry_of(row)
        if int(row["thread_id"]) in task_threads:
            TaskEntry.objects.filter(pk=target).update(body_html=data.body_html, body_text=data.body_text)
            return
        imported.update_imported_entry(target, data)
        touched.add(ticket)

    def after(_ids: list[int]) -> None:
        if touched:
            search_index.index_range(min(touched), max(touched))
            touched.clear()

    sync(
        ctx,
        "thread_entry",
        src.batches("thread_entry", "id", columns=_ENTRY_COLUMNS),
        pk="id",
        total=total,
        create=create,
        update=update,
        prepare=prepare,
        digest=digest,
        after=after,
        create_many=create_many,
    )
    for table in ("thread_entry_email", "attachment", "file", "file_chunk"):
        _account_folded(ctx, table)


# The body as bytes, so one undecodable body is reported instead of failing its batch.
_ENTRY_COLUMNS = (
    "id, pid, thread_id, staff_id, user_id, type, flags, poster, source, title, "
    "CAST(body AS BINARY) AS body, format, created, updated"
)


def _task_entry(task: int, data: ImportedEntry) -> int:
    """A note on a task (tessera.tasks keeps one kind of entry)."""
    return TaskEntry.objects.create(
        task_id=task,
        author_id=data.author_id,
        author_name=data.author_name[:150],
        body_html=data.body_html,
        body_text=data.body_text,
        created_at=data.created_at,
    ).pk


def file_content(ctx: Context, file: Row) -> bytes | None:
    src = ctx.source
    if file["bk"] == "D" or file["bk"] is None:
        chunks = src.all(
            f"SELECT filedata FROM {src.t('file_chunk')} WHERE file_id = %s ORDER BY chunk_id",  # noqa: S608
            [file["file_id"]],
        )
        return b"".join(c["filedata"] or b"" for c in chunks) if chunks else None
    if file["bk"] == "F" and ctx.files_dir is not None:
        # The filesystem plugin's layout: <root>/<first letter of the key>/<key>.
        key = str(file["file_key"] or "")
        for path in (ctx.files_dir / key[:1] / key, ctx.files_dir / key):
            if key and path.is_file():
                return path.read_bytes()
    return None


def _files(ctx: Context, entry_id: int, rows: list[Row]) -> None:
    for f in rows:
        name = f["override"] or f["name"] or f"file-{f['file_id']}"
        if f["name"] is None:
            ctx.report.note(
                "attachment", f["id"], _("its file %(f)s is missing from the file table") % {"f": f["file_id"]}
            )
            continue
        content = file_content(ctx, f)
        if content is None:
            ctx.report.note(
                "attachment", f["id"], _("the content of %(n)s was not found: a placeholder is attached") % {"n": name}
            )
            imported.import_attachment(
                entry_id,
                f"{name}.missing.txt",
                _("The content of this file was missing in osTicket.").encode(),
                "text/plain",
            )
            continue
        if f["size"] is not None and len(content) != int(f["size"]):
            ctx.report.note(
                "attachment",
                f["id"],
                _("size differs from osTicket's record (%(a)s, not %(b)s)") % {"a": len(content), "b": f["size"]},
            )
        # osTicket's `signature` is its own keyed digest: the size is what can be checked; the
        # SHA-256 of the bytes stored is kept on the attachment.
        imported.import_attachment(
            entry_id,
            name,
            content,
            f["type"] or "application/octet-stream",
            # osTicket's bodies show an inline image as <img src="cid:KEY">, KEY the file's key.
            content_id=str(f["file_key"] or "") if f["inline"] else "",
            write_file=not ctx.report.dry_run,
        )


def _mail(ctx: Context, row: Row, ticket: int, entry: int, mails: list[Row], data: ImportedEntry) -> None:
    """Keep the Message-ID where mail threading looks it up (mail received, on its ticket)."""
    for mail in mails:
        mid = (mail["mid"] or "").strip().strip("<>").strip()
        if not mid:
            continue
        key = f"mid:{mid}"[:300]
        if InboundMessage.objects.filter(dedupe_key=key).exists():
            ctx.report.note("thread_entry_email", mail["id"], _("Message-ID already known to Tessera"))
            continue
        raw = (mail["headers"] or "").encode("utf-8", errors="replace")
        InboundMessage.objects.create(
            dedupe_key=key,
            message_id=mid[:255],
            sha256=hashlib.sha256(raw).hexdigest(),
            raw=raw,
            size=len(raw),
            channel="api",
            sender="",
            subject="",
            received_at=data.created_at,
            processed_at=data.created_at,
            status=InboundStatus.REPLY if row["pid"] else InboundStatus.TICKET,
            reason=_("Imported from osTicket (headers only)."),
            ticket_id=ticket,
            entry_id=entry,
        )


def _account_folded(ctx: Context, table: str) -> None:
    """Rows that come over inside the entries they belong to: counted as imported when their
    entry was, else not imported for the entry's reason."""
    src = ctx.source
    if not src.has(table):
        return
    total = src.count(table)
    ctx.report.expect(table, total)
    if table == "thread_entry_email":
        folded = src.count(table, "thread_entry_id IN (SELECT id FROM " + src.t("thread_entry") + ")")  # noqa: S608  table names are ours
    elif table == "attachment":
        folded = src.count(table, "type IN ('H', 'C')")
        other = src.all(
            f"SELECT type, COUNT(*) AS n FROM {src.t(table)} WHERE type NOT IN ('H', 'C', 'F') GROUP BY type"  # noqa: S608
        )
        for r in other:
            ctx.report.skip_all(
                table,
                int(r["n"]),
                _("attached to an object of type %(t)s (not a thread entry, canned response or FAQ)")
                % {"t": r["type"]},
            )
    elif table == "file":
        folded = src.count(table, f"id IN (SELECT file_id FROM {src.t('attachment')} WHERE type IN ('H', 'C', 'F'))")  # noqa: S608  table names are ours
        if total - folded:
            ctx.report.skip_all(
                table,
                total - folded,
                _("not attached to a thread entry, canned response or FAQ (logos, drafts, pages)"),
            )
    else:
        folded = src.count(
            table,
            f"file_id IN (SELECT file_id FROM {src.t('attachment')} WHERE type IN ('H', 'C', 'F'))",  # noqa: S608
        )
        if total - folded:
            ctx.report.skip_all(
                table,
                total - folded,
                _("not attached to a thread entry, canned response or FAQ (logos, drafts, pages)"),
            )
    ctx.report.folded(table, folded, "thread_entry")
    if table == "thread_entry_email" and total - folded:
        ctx.report.skip_all(table, total - folded, _("its entry does not exist"))


def events(ctx: Context) -> None:
    src = ctx.source
    total = src.count("thread_event")
    names = (
        {int(r["id"]): r["name"] for r in src.all(f"SELECT id, name FROM {src.t('event')}")} if src.has("event") else {}  # noqa: S608  table names are ours
    )
    tickets_of: dict[int, int] = {}
    actors: dict[tuple[str, int], int] = {}

    def prepare(batch: list[Row]) -> None:
        tickets_of.clear()
        actors.clear()
        thread_ids = sorted({int(r["thread_id"]) for r in batch})
        marks = ",".join(["%s"] * len(thread_ids))
        rows = src.all(
            f"SELECT id, object_id FROM {src.t('thread')} WHERE object_type = 'T' AND id IN ({marks})",  # noqa: S608  table names are ours
            thread_ids,
        )
        found = ctx.lookup("ticket", (r["object_id"] for r in rows))
        for r in rows:
            if int(r["object_id"]) in found:
                tickets_of[int(r["id"])] = found[int(r["object_id"])]
        for key, table in (("staff", "staff"), ("user", "user")):
            ids = [r["uid"] for r in batch if (r["uid_type"] or "S") == key[0].upper()]
            for source_id, target in ctx.lookup(table, ids).items():
                actors[(key, source_id)] = target

    def parts(row: Row) -> tuple[int, str, dict[str, Any]]:
        if row["annulled"]:
            raise Skip(_("annulled in osTicket"))
        if row["thread_type"] != "T":
            raise Skip(_("an event of a task (task timelines are not imported)"))
        name = names.get(int(row["event_id"] or 0), "")
        kind = EVENTS.get(name)
        if kind is None:
            raise Skip(_("osTicket's %(n)s event has no timeline equivalent") % {"n": name or row["event_id"]})
        ticket = tickets_of.get(int(row["thread_id"]))
        if ticket is None:
            raise Skip(_("its ticket was not imported"))
        try:
            extra = json.loads(row["data"] or "{}")
        except ValueError:
            extra = {"raw": row["data"]}
        data = {"imported_from": "osticket", "osticket_event": name, "osticket_data": extra}
        for key in ("staff_id", "team_id", "dept_id", "topic_id"):
            if row[key]:
                data[f"osticket_{key}"] = row[key]
        return ticket, kind, data

    def event_of(row: Row) -> imported.ImportedEvent:
        ticket, kind, data = parts(row)
        when = src.when(row["timestamp"])
        if when is None:
            raise Skip(_("no date"))
        actor = actors.get(("staff" if (row["uid_type"] or "S") == "S" else "user", int(row["uid"] or 0)))
        return imported.ImportedEvent(
            ticket_id=ticket,
            kind=kind,
            actor_id=actor,
            actor_name=row["username"] or "",
            created_at=when,
            after="closed" if data["osticket_event"] == "closed" else "",
            data=data,
        )

    def create_many(rows: list[Row]) -> list[int | Skip]:
        outcomes: list[int | Skip] = []
        ready: list[imported.ImportedEvent] = []
        for row in rows:
            try:
                outcomes.append(len(ready))
                ready.append(event_of(row))
            except Skip as why:
                outcomes[-1] = why
        made = imported.import_events(ready)
        return [o if isinstance(o, Skip) else made[o] for o in outcomes]

    def create(row: Row) -> int:
        return imported.import_events([event_of(row)])[0]

    def update(row: Row, target: int) -> None:
        _ticket, _kind, data = parts(row)
        imported.update_imported_event(
            target, before="", after="closed" if data["osticket_event"] == "closed" else "", data=data
        )

    sync(
        ctx,
        "thread_event",
        src.batches("thread_event", "id"),
        pk="id",
        total=total,
        create=create,
        update=update,
        prepare=prepare,
    )


def files_dir(value: str | None) -> Path | None:
    return Path(value) if value else None
