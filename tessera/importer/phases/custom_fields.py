"""osTicket's custom lists, forms and fields (the ticket, user and organisation forms, and the
extra forms of help topics) as tessera.customfields lists, forms and fields; the answers are
`answers` below. Built-in fields (a ticket's subject and priority, a user's name, address,
phone and notes, an organisation's name) are not custom in Tessera: they came over with their
owners. Field types Tessera has no equivalent for (files, sections, information text) are
reported."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _

from tessera.customfields.models import (
    ChoiceItem,
    ChoiceList,
    Field,
    FieldType,
    FieldValue,
    Form,
    Target,
)

from ..models import IdMap
from ..runner import Context, Skip, fingerprint, sync
from ..source import Row

TARGETS = {"T": Target.TICKET, "G": Target.TICKET, "U": Target.USER, "O": Target.ORGANIZATION}
BUILT_IN = {
    "T": {"subject", "message", "priority"},
    "U": {"email", "name", "phone", "notes"},
    "O": {"name"},
    "G": set(),
}
SIMPLE_TYPES = {
    "text": FieldType.SHORT_TEXT,
    "memo": FieldType.LONG_TEXT,
    "phone": FieldType.PHONE,
    "bool": FieldType.CHECKBOX,
    "datetime": FieldType.DATETIME,
}


def _config(row: Row) -> dict[str, Any]:
    try:
        value = json.loads(row.get("configuration") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _unique(model: Any, field: str, value: str, limit: int) -> str:
    candidate, n = value[:limit], 2
    while model.objects.filter(**{field: candidate}).exists():
        candidate = f"{value[: limit - 5]}_{n}"
        n += 1
    return candidate


def lists(ctx: Context) -> None:
    src = ctx.source
    if not src.has("list"):
        return
    rows = src.all(f"SELECT * FROM {src.t('list')} ORDER BY id")  # noqa: S608  table names are ours
    items: dict[int, list[Row]] = {}
    if src.has("list_items"):
        for item in src.all(f"SELECT * FROM {src.t('list_items')} ORDER BY list_id, sort, id"):  # noqa: S608
            items.setdefault(int(item["list_id"]), []).append(item)

    def fill(choices: ChoiceList, row: Row) -> None:
        choices.description = row["notes"] or ""
        choices.save()
        for order, item in enumerate(items.get(int(row["id"]), [])):
            label = (item["value"] or "").strip()[:200] or f"#{item['id']}"
            ChoiceItem.objects.update_or_create(
                choice_list=choices,
                label=label,
                defaults={"order": order, "is_active": bool(int(item["status"] or 0) & 1)},
            )

    def create(row: Row) -> int:
        if row["type"] == "ticket-status":
            raise Skip(_("the list of ticket statuses (statuses are imported as statuses)"))
        choices = ChoiceList(name=_unique(ChoiceList, "name", row["name"] or "List", 120), shared=True)
        fill(choices, row)
        return choices.pk

    def update(row: Row, target: int) -> None:
        choices = ChoiceList.objects.filter(pk=target).first()
        if choices is None:
            raise Skip(_("the list was deleted in Tessera"))
        fill(choices, row)

    def digest(row: Row) -> str:
        return fingerprint(row, items.get(int(row["id"]), []))

    ctx.map("list")
    sync(ctx, "list", iter([rows]), pk="id", total=len(rows), create=create, update=update, digest=digest)
    n = sum(len(v) for v in items.values())
    ctx.report.expect("list_items", n)
    status_items = sum(len(items.get(int(r["id"]), [])) for r in rows if r["type"] == "ticket-status")
    ctx.report.folded("list_items", n - status_items, "list")
    ctx.report.skip_all("list_items", status_items, _("items of the list of ticket statuses"))


def forms(ctx: Context) -> None:
    src = ctx.source
    rows = src.all(f"SELECT * FROM {src.t('form')} ORDER BY id")  # noqa: S608  table names are ours
    fields: dict[int, list[Row]] = {}
    for row in src.all(f"SELECT * FROM {src.t('form_field')} ORDER BY form_id, sort, id"):  # noqa: S608
        fields.setdefault(int(row["form_id"]), []).append(row)
    topics: dict[int, list[int]] = {}
    if src.has("help_topic_form"):
        for row in src.all(f"SELECT topic_id, form_id FROM {src.t('help_topic_form')}"):  # noqa: S608
            topics.setdefault(int(row["form_id"]), []).append(int(row["topic_id"]))
    field_map = ctx.map("form_field")

    def field_type(form: Row, row: Row) -> tuple[str, int | None] | None:
        kind = str(row["type"] or "")
        config = _config(row)
        if kind in SIMPLE_TYPES:
            if kind == "text" and config.get("validator") == "email":
                return FieldType.EMAIL, None
            if kind == "datetime" and not config.get("time"):
                return FieldType.DATE, None
            return SIMPLE_TYPES[kind], None
        if kind == "choices":
            choices = ChoiceList.objects.create(
                name=_unique(ChoiceList, "name", f"{form['title']}: {row['label']}", 120), shared=False
            )
            lines = str(config.get("choices") or "").splitlines()
            for order, line in enumerate(x for x in lines if x.strip()):
                label = line.split(":", 1)[-1].strip()[:200]
                ChoiceItem.objects.get_or_create(choice_list=choices, label=label, defaults={"order": order})
            return (FieldType.MULTIPLE_CHOICE if config.get("multiselect") else FieldType.CHOICE), choices.pk
        match = re.match(r"^list-(\d+)$", kind)
        if match:
            choices_id = ctx.map("list").get(int(match.group(1)))
            if choices_id is None:
                return None
            return (FieldType.MULTIPLE_CHOICE if config.get("multiselect") else FieldType.LIST), choices_id
        return None

    def fill(form: Form, row: Row) -> None:
        form.title = (row["title"] or "")[:150] or _("Form %(n)s") % {"n": row["id"]}
        form.instructions = row["instructions"] or ""
        form.target = TARGETS[row["type"]]
        form.for_all_tickets = row["type"] == "T"
        form.save()
        if row["type"] == "G":
            form.topics.set([t for t in (ctx.map("help_topic").get(i) for i in topics.get(int(row["id"]), [])) if t])
        for order, f in enumerate(fields.get(int(row["id"]), [])):
            if f["name"] in BUILT_IN[row["type"]]:
                continue
            existing = field_map.get(int(f["id"]))
            if existing is not None:
                Field.objects.filter(pk=existing).update(label=(f["label"] or "")[:150], order=order)
                continue
            typed = field_type(row, f)
            if typed is None:
                ctx.report.note("form_field", f["id"], _("type %(t)s has no Tessera equivalent") % {"t": f["type"]})
                continue
            key = slugify(f["name"] or f["label"] or "").replace("-", "_")[:40] or "field"
            made = Field.objects.create(
                form=form,
                key=_unique(Field, "key", f"osticket_{key}", 64),
                label=(f["label"] or key)[:150],
                help_text=(f["hint"] or "")[:300],
                type=typed[0],
                choice_list_id=typed[1],
                order=order,
            )
            field_map[int(f["id"])] = made.pk
            IdMap.objects.create(source_table="form_field", source_id=int(f["id"]), target_id=made.pk, fingerprint="")

    def create(row: Row) -> int:
        if row["type"] not in TARGETS:
            raise Skip(_("a form of type %(t)s (task, company or list properties)") % {"t": row["type"]})
        form = Form()
        fill(form, row)
        return form.pk

    def update(row: Row, target: int) -> None:
        form = Form.objects.filter(pk=target).first()
        if form is None:
            raise Skip(_("the form was deleted in Tessera"))
        fill(form, row)

    def digest(row: Row) -> str:
        return fingerprint(row, fields.get(int(row["id"]), []), sorted(topics.get(int(row["id"]), [])))

    ctx.map("form")
    sync(ctx, "form", iter([rows]), pk="id", total=len(rows), create=create, update=update, digest=digest)
    all_fields = [f for fs in fields.values() for f in fs]
    ctx.report.expect("form_field", len(all_fields))
    mapped = sum(1 for f in all_fields if int(f["id"]) in field_map)
    ctx.report.folded("form_field", mapped, "form")
    ctx.report.skip_all(
        "form_field", len(all_fields) - mapped, _("built in (came over with its owner), or no Tessera equivalent")
    )
    links = sum(len(v) for v in topics.values())
    ctx.report.expect("help_topic_form", links)
    ctx.report.folded("help_topic_form", links, "form")


def answers(ctx: Context) -> None:
    """Each filled form of a ticket, user or organisation: its custom answers as FieldValues."""
    src = ctx.source
    total = src.count("form_entry")
    field_map = ctx.map("form_field")
    values: dict[int, list[Row]] = {}
    owners: dict[tuple[str, int], int] = {}
    fields: dict[int, Field] = {}

    def prepare(batch: list[Row]) -> None:
        values.clear()
        owners.clear()
        ids = [int(r["id"]) for r in batch]
        marks = ",".join(["%s"] * len(ids))
        for row in src.all(
            f"SELECT entry_id, field_id, value, value_id FROM {src.t('form_entry_values')} "  # noqa: S608
            f"WHERE entry_id IN ({marks}) ORDER BY entry_id, field_id",
            ids,
        ):
            values.setdefault(int(row["entry_id"]), []).append(row)
        for kind, table in (("T", "ticket"), ("U", "user"), ("O", "organization")):
            found = ctx.lookup(table, (r["object_id"] for r in batch if r["object_type"] == kind))
            owners.update({(kind, k): v for k, v in found.items()})
        wanted = {
            field_map[int(v["field_id"])] for vs in values.values() for v in vs if int(v["field_id"]) in field_map
        }
        missing = wanted - set(fields)
        fields.update(Field.objects.filter(pk__in=missing).select_related("choice_list").in_bulk())

    def digest(row: Row) -> str:
        return fingerprint(row, values.get(int(row["id"]), []))

    def owner_of(row: Row) -> dict[str, int]:
        kind = row["object_type"]
        if kind == "A":
            raise Skip(_("a task's form (its title came over with the task)"))
        if kind not in {"T", "U", "O"}:
            raise Skip(_("answers about an object of type %(t)s (the company details)") % {"t": kind})
        owner = owners.get((kind, int(row["object_id"] or 0)))
        if owner is None:
            raise Skip(_("its ticket, user or organisation was not imported"))
        return {"T": {"ticket_id": owner}, "U": {"user_id": owner}, "O": {"organization_id": owner}}[kind]

    def write(row: Row, *, fresh: bool = False) -> int:
        owner = owner_of(row)
        mine = [v for v in values.get(int(row["id"]), []) if int(v["field_id"]) in field_map]
        if mine and not fresh:
            FieldValue.objects.filter(field_id__in=[field_map[int(v["field_id"])] for v in mine], **owner).delete()
        for v in mine:
            field = fields[field_map[int(v["field_id"])]]
            for answer in _typed(ctx, field, v):
                FieldValue.objects.create(field=field, **owner, **answer)
        return next(iter(owner.values()))

    def update(row: Row, target: int) -> None:
        write(row)

    def create_many(rows: list[Row]) -> list[int | Skip]:
        # Most entries hold only built-in answers: nothing to write for them.
        outcomes: list[int | Skip] = []
        for row in rows:
            try:
                outcomes.append(write(row, fresh=True))
            except Skip as why:
                outcomes.append(why)
        return outcomes

    sync(
        ctx,
        "form_entry",
        src.batches("form_entry", "id"),
        pk="id",
        total=total,
        create=write,
        update=update,
        prepare=prepare,
        digest=digest,
        create_many=create_many,
    )
    n = src.count("form_entry_values")
    ctx.report.expect("form_entry_values", n)
    kept = src.count(
        "form_entry_values",
        f"entry_id IN (SELECT id FROM {src.t('form_entry')} WHERE object_type IN ('T', 'U', 'O', 'A'))",  # noqa: S608
    )
    ctx.report.folded("form_entry_values", kept, "form_entry")
    ctx.report.skip_all("form_entry_values", n - kept, _("answers on the company details form, not imported"))


def _typed(ctx: Context, field: Field, row: Row) -> list[dict[str, Any]]:
    """One answer as the columns of FieldValue (several rows for a multiple choice)."""
    raw = row["value"]
    if raw is None or str(raw).strip() == "":
        return []
    text = str(raw).strip()
    if field.type in (FieldType.CHOICE, FieldType.MULTIPLE_CHOICE, FieldType.LIST):
        if field.choice_list_id is None:
            return [{"text": text}]
        try:
            picked = json.loads(text)  # {"key": "Label", …} as osTicket stores choices
            labels = [str(x) for x in picked.values()] if isinstance(picked, dict) else [text]
        except ValueError:
            labels = [text]
        found = []
        for label in labels:
            item = ChoiceItem.objects.filter(choice_list_id=field.choice_list_id, label=label.strip()[:200]).first()
            if item is None:
                item = ChoiceItem.objects.create(
                    choice_list_id=field.choice_list_id, label=label.strip()[:200], is_active=False
                )
            found.append({"item": item})
        return found if field.type == FieldType.MULTIPLE_CHOICE else found[:1]
    if field.type == FieldType.CHECKBOX:
        return [{"flag": text not in {"0", "false", ""}}]
    if field.type == FieldType.NUMBER:
        try:
            return [{"number": Decimal(text)}]
        except InvalidOperation:
            return [{"text": text}]
    if field.type in (FieldType.DATE, FieldType.DATETIME):
        try:
            moment = (
                dt.datetime.fromisoformat(text)
                if not text.isdecimal()
                else dt.datetime.fromtimestamp(int(text), dt.UTC).replace(tzinfo=None)
            )
        except ValueError:
            ctx.report.note(
                "form_entry_values", f"{row['entry_id']}/{row['field_id']}", _("not a date: %(v)s") % {"v": text[:40]}
            )
            return []
        when = ctx.source.when(moment)
        return [{"date": moment.date()}] if field.type == FieldType.DATE else [{"moment": when}]
    return [{"text": text}]
