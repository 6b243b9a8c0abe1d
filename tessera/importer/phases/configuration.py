"""How the old desk was set up: departments, roles, priorities, statuses, SLA plans, help
topics, canned responses and the ban list. Each keeps its osTicket name; a Tessera object of
the same name (a fresh desk's "Open" status, say) is taken over rather than duplicated."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, Perm, Role
from tessera.canned.models import CannedAttachment, CannedResponse
from tessera.mail.models import BannedSender
from tessera.sla.models import Schedule, ScheduleInterval, SlaPlan
from tessera.tickets.content import clean_html, html_to_text
from tessera.tickets.models import HelpTopic, Priority, State, Status

from ..runner import Context, Skip, fingerprint, sync
from ..source import Row

# osTicket role permission → Tessera permissions. What is not here is reported.
ROLE_PERMS: dict[str, tuple[str, ...]] = {
    "ticket.assign": (Perm.ASSIGN,),
    "ticket.release": (Perm.ASSIGN,),
    "ticket.close": (Perm.CLOSE, Perm.STATUS),
    "ticket.markanswered": (Perm.STATUS,),
    "ticket.delete": (Perm.DELETE,),
    "ticket.edit": (Perm.MANAGE, Perm.PRIORITY),
    "ticket.merge": (Perm.MERGE,),
    "ticket.link": (Perm.MERGE,),
    "ticket.reply": (Perm.REPLY,),
    "ticket.transfer": (Perm.TRANSFER,),
    "ticket.refer": (Perm.TRANSFER,),
    "ticket.create": (),  # every Tessera agent may open tickets for callers
    "task.create": (Perm.TASK_CREATE,),
    "task.edit": (Perm.TASK_EDIT,),
    "task.assign": (Perm.TASK_ASSIGN,),
    "task.transfer": (Perm.TASK_TRANSFER,),
    "task.close": (Perm.TASK_CLOSE,),
    "task.reply": (),  # task notes need no permission of their own in Tessera
    "canned.manage": (Perm.CANNED,),
}
STATE_OF = {"open": State.OPEN, "closed": State.CLOSED, "archived": State.ARCHIVED, "deleted": State.CLOSED}


def _unique_name(model: Any, name: str, limit: int, field: str = "name") -> str:
    name = (name or "").strip()[:limit] or "osTicket"
    candidate, n = name, 2
    while model.objects.filter(**{field: candidate}).exists():
        candidate = f"{name[: limit - 6]} ({n})"
        n += 1
    return candidate


def departments(ctx: Context) -> None:
    src = ctx.source
    rows = src.all(f"SELECT * FROM {src.t('department')} ORDER BY LENGTH(path), id")  # noqa: S608  parents first

    def create(row: Row) -> int:
        dept = Department.objects.filter(name=row["name"]).first()
        if dept is None:
            dept = Department.objects.create(name=_unique_name(Department, row["name"], 120))
        _fill_department(dept, row)
        return dept.pk

    def update(row: Row, target: int) -> None:
        dept = Department.objects.filter(pk=target).first()
        if dept is None:
            raise Skip(_("the department was deleted in Tessera"))
        _fill_department(dept, row)

    def _fill_department(dept: Department, row: Row) -> None:
        parent = ctx.map("department").get(int(row["pid"] or 0))
        dept.parent_id = parent if parent != dept.pk else None
        dept.is_public = bool(row["ispublic"])
        dept.signature = row["signature"] or ""
        dept.assign_members_only = bool(int(row["flags"] or 0) & 1)
        manager = ctx.map("staff").get(int(row["manager_id"] or 0))
        dept.manager_id = _agent_of(manager)
        dept.save()

    ctx.map("department")
    sync(ctx, "department", iter([rows]), pk="id", total=len(rows), create=create, update=update)


def _agent_of(user_id: int | None) -> int | None:
    from tessera.accounts.models import Agent  # local import: kept beside its only use

    if not user_id:
        return None
    return Agent.objects.filter(user_id=user_id).values_list("pk", flat=True).first()


def department_managers(ctx: Context) -> None:
    """Managers are agents, imported after the departments: set them now."""
    src = ctx.source
    for row in src.all(f"SELECT id, manager_id FROM {src.t('department')} WHERE manager_id > 0"):  # noqa: S608
        dept = ctx.map("department").get(int(row["id"]))
        agent = _agent_of(ctx.map("staff").get(int(row["manager_id"])))
        if dept and agent:
            Department.objects.filter(pk=dept).update(manager_id=agent)


def roles(ctx: Context) -> None:
    src = ctx.source
    rows = src.all(f"SELECT * FROM {src.t('role')} ORDER BY id")  # noqa: S608

    def perms(row: Row) -> list[str]:
        try:
            granted = json.loads(row["permissions"] or "{}") or {}
        except ValueError:
            granted = {}
            ctx.report.note("role", row["id"], _("permissions unreadable; the role gets view and note only"))
        result = {Perm.VIEW.value, Perm.NOTE.value}  # every osTicket agent may read and note
        for key, on in sorted(granted.items()):
            if not on:
                continue
            if key not in ROLE_PERMS:
                ctx.report.note("role", row["id"], _("permission %(p)s has no Tessera equivalent") % {"p": key})
            result.update(str(p) for p in ROLE_PERMS.get(key, ()))
        return sorted(result)

    def create(row: Row) -> int:
        role = Role.objects.filter(name=row["name"]).first() or Role(name=_unique_name(Role, row["name"], 100))
        role.permissions = perms(row)
        role.save()
        return role.pk

    def update(row: Row, target: int) -> None:
        Role.objects.filter(pk=target).update(permissions=perms(row))

    ctx.map("role")
    sync(ctx, "role", iter([rows]), pk="id", total=len(rows), create=create, update=update)


def priorities(ctx: Context) -> None:
    src = ctx.source
    rows = src.all(f"SELECT * FROM {src.t('ticket_priority')} ORDER BY priority_id")  # noqa: S608

    def create(row: Row) -> int:
        name = row["priority_desc"] or row["priority"]
        found = Priority.objects.filter(name__iexact=name).first()
        if found is None:
            found = Priority.objects.filter(urgency=row["priority_urgency"]).first()
            if found is not None:
                ctx.report.note(
                    "ticket_priority", row["priority_id"], _("merged with the priority %(n)s") % {"n": found.name}
                )
        if found is None:
            urgency = int(row["priority_urgency"] or 0)
            while Priority.objects.filter(urgency=urgency).exists():
                urgency += 1
            found = Priority.objects.create(
                name=_unique_name(Priority, name, 60), urgency=urgency, colour=_colour(row["priority_color"])
            )
        return found.pk

    ctx.map("ticket_priority")
    sync(ctx, "ticket_priority", iter([rows]), pk="priority_id", total=len(rows), create=create)


def _colour(value: str | None) -> str:
    value = (value or "").strip()
    return value if len(value) == 7 and value.startswith("#") else "#6b7280"


def statuses(ctx: Context) -> None:
    src = ctx.source
    rows = src.all(f"SELECT * FROM {src.t('ticket_status')} ORDER BY id")  # noqa: S608

    def state_of(row: Row) -> str:
        state = STATE_OF.get(row["state"], State.OPEN)
        if row["state"] == "closed" and "resolv" in (row["name"] or "").lower():
            return State.RESOLVED
        if row["state"] == "deleted":
            ctx.report.note("ticket_status", row["id"], _("osTicket's deleted state has no equivalent: closed"))
        return state

    def props(row: Row) -> dict[str, Any]:
        try:
            return json.loads(row["properties"] or "{}") or {}
        except ValueError:
            return {}

    def create(row: Row) -> int:
        status = Status.objects.filter(name__iexact=row["name"]).first()
        if status is None:
            status = Status.objects.create(
                name=_unique_name(Status, row["name"], 60),
                state=state_of(row),
                order=int(row["sort"] or 0),
                allow_reopen=bool(props(row).get("allowreopen", True)),
            )
        return status.pk

    def update(row: Row, target: int) -> None:
        Status.objects.filter(pk=target).update(allow_reopen=bool(props(row).get("allowreopen", True)))

    ctx.map("ticket_status")
    sync(ctx, "ticket_status", iter([rows]), pk="id", total=len(rows), create=create, update=update)


def _always_open() -> Schedule:
    schedule, created = Schedule.objects.get_or_create(name="24/7 (osTicket)", defaults={"time_zone": "UTC"})
    if created:
        ScheduleInterval.objects.bulk_create(
            ScheduleInterval(schedule=schedule, weekday=day, start=dt.time(0), end=dt.time(0)) for day in range(7)
        )
    return schedule


def sla_plans(ctx: Context) -> None:
    """A plan counts in its own schedule; a plan without one counts, as in osTicket, in the
    desk's default schedule (config core.schedule_id), else around the clock."""
    from .schedules import business_schedule  # local import: schedules reuses this module's helpers

    src = ctx.source
    rows = src.all(f"SELECT * FROM {src.t('sla')} ORDER BY id")  # noqa: S608
    default = int(src.config().get(("core", "schedule_id")) or 0) if src.has("config") else 0

    def schedule_of(row: Row) -> int | None:
        own = int(row["schedule_id"] or 0)
        return business_schedule(ctx, own or default)

    def schedule_for(row: Row) -> Schedule | int:
        found = schedule_of(row)
        if found is None and int(row["schedule_id"] or 0):
            ctx.report.note("sla", row["id"], _("its business-hours schedule was not imported: the plan runs 24/7"))
        return found or _always_open()

    def fill(plan: SlaPlan, row: Row, hours: int) -> None:
        found = schedule_for(row)
        if isinstance(found, Schedule):
            plan.schedule = found
        else:
            plan.schedule_id = found
        plan.first_response_minutes = hours * 60
        plan.resolution_minutes = hours * 60
        plan.is_active = bool(int(row["flags"] or 0) & 1)
        plan.save()

    def create(row: Row) -> int:
        hours = int(row["grace_period"] or 0)
        if hours <= 0:
            raise Skip(_("no grace period"))
        plan = SlaPlan.objects.filter(name=row["name"]).first() or SlaPlan(name=_unique_name(SlaPlan, row["name"], 120))
        fill(plan, row, hours)
        return plan.pk

    def update(row: Row, target: int) -> None:
        hours = int(row["grace_period"] or 0)
        plan = SlaPlan.objects.filter(pk=target).first()
        if hours > 0 and plan is not None:
            fill(plan, row, hours)

    def digest(row: Row) -> str:
        # The schedule it counts in is part of it: a schedule imported later moves the plan there.
        return fingerprint(row, schedule_of(row))

    ctx.map("sla")
    sync(ctx, "sla", iter([rows]), pk="id", total=len(rows), create=create, update=update, digest=digest)


def help_topics(ctx: Context) -> None:
    src = ctx.source
    rows = src.all(f"SELECT * FROM {src.t('help_topic')} ORDER BY topic_pid, topic_id")  # noqa: S608
    names = {int(r["topic_id"]): r["topic"] for r in rows}

    def full_name(row: Row) -> str:
        # Tessera's topics are flat: "Report a Problem / Access Issue" keeps the hierarchy readable.
        parent = names.get(int(row["topic_pid"] or 0))
        return f"{parent} / {row['topic']}" if parent else row["topic"]

    def fill(topic: HelpTopic, row: Row) -> None:
        dept = ctx.map("department").get(int(row["dept_id"] or 0))
        if dept is None:
            dept = Department.objects.order_by("pk").values_list("pk", flat=True).first()
            if dept is None:
                raise Skip(_("no department to put it in"))
        topic.department_id = dept
        topic.default_priority_id = ctx.map("ticket_priority").get(int(row["priority_id"] or 0))
        topic.sla_plan_id = ctx.map("sla").get(int(row["sla_id"] or 0))
        topic.is_public = bool(row["ispublic"])
        topic.is_active = bool(int(row["flags"] or 0) & 2) or int(row["flags"] or 0) == 0
        topic.save()

    def create(row: Row) -> int:
        name = full_name(row)[:120]
        topic = HelpTopic.objects.filter(name=name).first() or HelpTopic(name=_unique_name(HelpTopic, name, 120))
        fill(topic, row)
        return topic.pk

    def update(row: Row, target: int) -> None:
        topic = HelpTopic.objects.filter(pk=target).first()
        if topic is None:
            raise Skip(_("the help topic was deleted in Tessera"))
        fill(topic, row)

    ctx.map("help_topic")
    sync(ctx, "help_topic", iter([rows]), pk="topic_id", total=len(rows), create=create, update=update)


def canned_responses(ctx: Context) -> None:
    src = ctx.source
    if not src.has("canned_response"):
        return
    total = src.count("canned_response")
    files: dict[int, list[Row]] = {}

    def prepare(batch: list[Row]) -> None:
        files.clear()
        ids = [int(r["canned_id"]) for r in batch]
        marks = ",".join(["%s"] * len(ids))
        for r in src.all(
            f"SELECT a.id, a.object_id, a.file_id, a.name AS override, f.name, f.type, f.size, f.bk, "  # noqa: S608  table names are ours
            f"f.`key` AS file_key FROM {src.t('attachment')} a JOIN {src.t('file')} f ON f.id = a.file_id "
            f"WHERE a.type = 'C' AND a.object_id IN ({marks}) ORDER BY a.id",
            ids,
        ):
            files.setdefault(int(r["object_id"]), []).append(r)

    def digest(row: Row) -> str:
        return fingerprint(row, [f["id"] for f in files.get(int(row["canned_id"]), [])])

    def attach(canned: CannedResponse, row: Row) -> None:
        from .threads import file_content  # local import: the one way files are read from the source

        for f in files.get(int(row["canned_id"]), []):
            content = file_content(ctx, f)
            name = f["override"] or f["name"] or f"file-{f['file_id']}"
            if content is None:
                ctx.report.note("attachment", f["id"], _("the content of %(n)s was not found: left out") % {"n": name})
                continue
            if canned.attachments.filter(name=name, sha256=hashlib.sha256(content).hexdigest()).exists():
                continue
            item = CannedAttachment(
                response=canned,
                name=name[:255],
                size=len(content),
                content_type=(f["type"] or "application/octet-stream")[:120],
                sha256=hashlib.sha256(content).hexdigest(),
            )
            if ctx.report.dry_run:
                item.file.name = f"canned/{item.sha256[:2]}/{item.sha256}/{name}"
                item.save()
            else:
                item.file.save(name, ContentFile(content), save=True)

    def fill(canned: CannedResponse, row: Row) -> None:
        canned.title = (row["title"] or "")[:200]
        canned.body = (
            html_to_text(clean_html(row["response"] or "")) if "<" in (row["response"] or "") else row["response"] or ""
        )
        canned.is_active = bool(row["isenabled"])
        canned.created_at = src.when(row["created"]) or canned.created_at
        canned.updated_at = src.when(row["updated"]) or canned.updated_at
        canned.save()
        dept = ctx.map("department").get(int(row["dept_id"] or 0))
        canned.departments.set([dept] if dept else [])
        attach(canned, row)

    def create(row: Row) -> int:
        canned = CannedResponse()
        fill(canned, row)
        return canned.pk

    def update(row: Row, target: int) -> None:
        canned = CannedResponse.objects.filter(pk=target).first()
        if canned is None:
            raise Skip(_("the canned response was deleted in Tessera"))
        fill(canned, row)

    sync(
        ctx,
        "canned_response",
        src.batches("canned_response", "canned_id"),
        pk="canned_id",
        total=total,
        create=create,
        update=update,
        prepare=prepare,
        digest=digest,
    )


def ban_list(ctx: Context) -> None:
    """osTicket's ban list is a system filter ("SYSTEM BAN LIST") whose rules match the sender."""
    src = ctx.source
    if not (src.has("filter") and src.has("filter_rule")):
        return
    rows = src.all(
        f"SELECT r.* FROM {src.t('filter_rule')} r JOIN {src.t('filter')} f ON f.id = r.filter_id "  # noqa: S608
        "WHERE f.name = 'SYSTEM BAN LIST' ORDER BY r.id"
    )
    others = src.count("filter_rule") - len(rows)

    def create(row: Row) -> int:
        pattern = (row["val"] or "").strip().lower()
        if row["what"] != "email" or row["how"] != "equal" or not pattern:
            raise Skip(_("a ban rule other than one address"))
        banned, _created = BannedSender.objects.get_or_create(
            pattern=pattern[:254], defaults={"reason": _("Banned in osTicket")}
        )
        return banned.pk

    sync(ctx, "filter_rule", iter([rows]), pk="id", total=len(rows) + others, create=create)
    if others:
        ctx.report.skip_all("filter_rule", others, _("ticket filters are not imported: set them up as routing rules"))
